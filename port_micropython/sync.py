# The MicroPython syncs: IrqSync for ports without threads (an op runs with interrupts off) and
# ThreadSync for ports with _thread (a mutex per area, owner and depth, a table of readers).
import time

from ..area import SharedAreaError

try:
    from micropython import const
except ImportError:  # (so the module also loads on CPython, for reading and tests)
    def const(x):
        return x

try:
    from machine import disable_irq, enable_irq
except ImportError:  # no interrupts to switch off (the unix port)
    def disable_irq():
        return 0

    def enable_irq(state):
        pass

_MASK = const(0x3FFFFFFF)  # the update counter stays a small int on 32-bit boards
_LONGEST_NAP = const(1000)  # ms: a longer freq (even inf) polls this often


def _closed():
    raise SharedAreaError('the area is closed (by another thread, while this one waited)')


def _refuse_upgrade():
    raise SharedAreaError('this thread holds rlock on the area; upgrading it to a write is refused (unlock first)')


def _poll(sync, freq, timeout, since):
    # wait() by polling the counter every freq ms: True once it differs from since, False at the timeout
    ms = int(timeout * 1000) if timeout < 86400 else 86400000
    nap = int(freq) if freq < _LONGEST_NAP else _LONGEST_NAP
    t0 = time.ticks_ms()
    while sync._count == since:
        if sync._gone:
            _closed()
        left = ms - time.ticks_diff(time.ticks_ms(), t0) if timeout else nap
        if left <= 0:
            return False
        time.sleep_ms(min(nap, left) or 1)
    return True


class IrqSync:
    # one thread: an op is a critical section with interrupts off; rlock/wlock only count, so user code
    # under wlock never runs with interrupts off
    def __init__(self):
        self._count = 0
        self._irq = 0  # disable_irq's state, given back by leave()
        self._wd = 0  # wlock depth
        self._rd = 0  # rlock depth
        self._flags = []  # asyncio ThreadSafeFlags set by bump()
        self._gone = False

    def enter_read(self):
        if self._gone:
            _closed()
        self._irq = disable_irq()

    def enter_write(self):
        if self._rd and not self._wd:
            _refuse_upgrade()
        self.enter_read()

    def leave(self):
        enable_irq(self._irq)

    def lock_read(self):
        self._rd += 1

    def lock_write(self):
        if self._rd and not self._wd:
            _refuse_upgrade()
        self._wd += 1

    def unlock(self):
        if self._wd:
            self._wd -= 1
        elif self._rd:
            self._rd -= 1
        else:
            return False
        return True

    def bump(self):
        self._count = (self._count + 1) & _MASK
        if self._flags:
            for f in self._flags:
                f.set()

    def count(self):
        return self._count

    def wait(self, freq, timeout, since):
        if since is None:
            since = self._count
        return _poll(self, freq, timeout, since)

    def watch(self, flag):
        self._flags.append(flag)

    def unwatch(self, flag):
        if flag in self._flags:
            self._flags.remove(flag)

    def close(self):
        self._gone = True
        self._wd = self._rd = 0
        for f in self._flags:
            f.set()


class ThreadSync:
    # Every op takes the area's mutex (owner + depth, so the holder's own ops and a second wlock nest);
    # wlock takes it and keeps it; rlock only counts readers, and writers wait for them to leave.
    def __init__(self):
        import _thread
        self._ident = _thread.get_ident
        self._alloc = _thread.allocate_lock
        self._mutex = _thread.allocate_lock()
        self._owner = None  # thread holding the mutex (an op, or wlock)
        self._depth = 0
        self._readers = {}  # thread -> rlock depth
        self._count = 0
        self._sleepers = None  # locks of threads waiting without a timeout, released by bump()
        self._flags = []
        self._gone = False

    def _take(self, me):
        self._mutex.acquire()
        if self._gone:
            self._mutex.release()
            _closed()
        self._owner = me
        self._depth = 1

    def enter_read(self):
        me = self._ident()
        if self._owner == me:
            self._depth += 1
        else:
            self._take(me)

    def enter_write(self):
        me = self._ident()
        if self._owner == me:
            self._depth += 1
            return
        while True:
            self._take(me)
            if not self._readers:
                return
            self._owner = None
            self._mutex.release()
            if me in self._readers:
                _refuse_upgrade()
            time.sleep_ms(1)

    def leave(self):
        if self._gone and self._owner is None:
            return  # close() let go of the mutex for this thread
        self._depth -= 1
        if not self._depth:
            self._owner = None
            self._mutex.release()

    lock_write = enter_write

    def lock_read(self):
        me = self._ident()
        if self._owner == me:
            self._depth += 1  # under this thread's wlock: nests as part of it
            return
        self._take(me)
        self._readers[me] = self._readers.get(me, 0) + 1
        self._owner = None
        self._mutex.release()

    def unlock(self):
        me = self._ident()
        if self._owner == me:
            self.leave()
            return True
        self._take(me)
        d = self._readers.get(me, 0)
        if d > 1:
            self._readers[me] = d - 1
        elif d:
            del self._readers[me]
        self._owner = None
        self._mutex.release()
        return d > 0

    def bump(self):
        # inside an op; allocates nothing unless a thread waits without a timeout or a task watches
        self._count = (self._count + 1) & _MASK
        if self._sleepers:
            for lk in self._sleepers:
                lk.release()
            self._sleepers = None
        if self._flags:
            for f in self._flags:
                f.set()

    def count(self):
        return self._count

    def wait(self, freq, timeout, since):
        if since is None:
            since = self._count
        if timeout:
            return _poll(self, freq, timeout, since)
        lk = self._alloc()
        lk.acquire()
        self.enter_read()
        try:
            if self._count != since:
                return True
            if self._sleepers is None:
                self._sleepers = []
            self._sleepers.append(lk)
        finally:
            self.leave()
        lk.acquire()  # released by the next bump(), or by close()
        if self._gone:
            _closed()
        return True

    def watch(self, flag):
        self._flags.append(flag)

    def unwatch(self, flag):
        if flag in self._flags:
            self._flags.remove(flag)

    def close(self):
        # never blocks: waiters wake with SharedAreaError, the mutex is let go whoever holds it
        self._gone = True
        self._readers = {}
        if self._owner is not None:
            self._owner = None
            self._depth = 0
            self._mutex.release()
        if self._sleepers:
            for lk in self._sleepers:
                lk.release()
            self._sleepers = None
        for f in self._flags:
            f.set()

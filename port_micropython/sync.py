# The MicroPython syncs (docs/ports.md): IrqSync for firmware without threads (an op runs with interrupts
# off) and ThreadSync for firmware with _thread (a short-held mutex, wlock's holder and depth, a reader table).
import time
from array import array

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

# bits of state[1], which the fast path (_fast.py) reads before an op; it hands the op to the Python
# method when any bit it cares about is set
_CLOSED = const(1)
_WLOCKED = const(2)  # a thread holds wlock
_READERS = const(4)  # some thread holds rlock
_WAKE = const(8)  # bump() has sleepers to release or flags to set
_QUEUED = const(16)  # threads are parked until the lock state changes

_MASK = const(0x3FFFFFFF)  # the update counter stays a small int on 32-bit boards
_LONGEST_NAP = const(1000)  # ms: a longer freq (even inf) polls this often


def _closed():
    raise SharedAreaError('the area is closed (by another thread, while this one waited)')


def _refuse_upgrade():
    raise SharedAreaError('this thread holds rlock on the area; upgrading it to a write is refused (unlock first)')


def _resized(size, now):
    raise SharedAreaError('the buffer under the area changed size (%d bytes, now %d): the area is unusable' % (size, now))


def _half(x):
    # x's low 32 bits as a signed 32-bit int (what array('i') holds)
    x &= 0xFFFFFFFF
    return x - (x >> 31 << 32)


def _poll(sync, freq, timeout, since):
    # wait() by polling the counter every freq ms: True once it differs from since, False at the timeout
    ms = int(timeout * 1000) if timeout < 86400 else 86400000  # (timeouts of a day or more: a day at a time)
    nap = int(freq) if freq < _LONGEST_NAP else _LONGEST_NAP
    st = sync.state
    t0 = time.ticks_ms()
    while st[0] == since:
        if st[1] & _CLOSED:
            _closed()
        left = ms - time.ticks_diff(time.ticks_ms(), t0) if timeout else nap
        if left <= 0:
            if timeout < 86400:
                return False
            t0 = time.ticks_ms()
            left = nap
        time.sleep_ms(min(nap, left) or 1)
    return True


class _Counter:
    # what both syncs keep alike: the update counter in state[0], and bump(), inside an op (allocates
    # nothing), waking whoever waits when state[1] says someone does
    def bump(self):
        st = self.state
        st[0] = (st[0] + 1) & _MASK
        if st[1] & _WAKE:
            self.wake()

    def count(self):
        return self.state[0]


class IrqSync(_Counter):
    # One thread: an op is a critical section with interrupts off, so an interrupt handler's op never
    # lands inside another. rlock/wlock only count (user code under wlock runs with interrupts on); an
    # rlock taken under wlock counts as part of it, so unlock() drops wlock's depth first.
    def __init__(self, obj=None, size=0):
        # update counter, flags, size, 1 if obj's length is checked, wlock depth (read by the fast path)
        self.state = array('i', (0, 0, size, 0 if obj is None else 1, 0))
        self._obj = obj  # a user's buffer whose length is checked per op (it may have been resized)
        self._size = size
        self._irq = 0  # disable_irq's state, given back by leave()
        self._rd = 0  # rlock depth
        self._flags = []  # asyncio ThreadSafeFlags that bump() sets

    def acquire(self, blocking=True):
        # the fast path's way in (as a mutex's acquire): True, with interrupts off
        self._irq = disable_irq()
        return True

    def release(self):
        enable_irq(self._irq)

    def enter_read(self):
        st = self.state
        if st[1] & _CLOSED:
            _closed()
        if self._obj is not None and len(self._obj) != self._size:
            _resized(self._size, len(self._obj))
        self._irq = disable_irq()

    def enter_write(self):
        if self._rd:
            _refuse_upgrade()
        self.enter_read()

    def leave(self):
        enable_irq(self._irq)

    def lock_read(self):
        st = self.state
        if st[4]:
            st[4] += 1
        else:
            self._rd += 1
            st[1] |= _READERS

    def lock_write(self):
        if self._rd:
            _refuse_upgrade()
        self.state[4] += 1

    def unlock(self):
        st = self.state
        if st[4]:
            st[4] -= 1
        elif self._rd:
            self._rd -= 1
            if not self._rd:
                self.state[1] &= ~_READERS
        else:
            return False
        return True

    def wake(self):
        # sets every watched flag (bump() calls this when there are some)
        for f in self._flags:
            f.set()

    def wait(self, freq, timeout, since):
        if since is None:
            since = self.state[0]
        return _poll(self, freq, timeout, since)

    def watch(self, flag):
        self._flags.append(flag)
        self.state[1] |= _WAKE

    def unwatch(self, flag):
        if flag in self._flags:
            self._flags.remove(flag)
        if not self._flags:
            self.state[1] &= ~_WAKE

    def close(self):
        self.state[1] = _CLOSED
        self.state[4] = self._rd = 0
        self.wake()
        self._flags = []


class ThreadSync(_Counter):
    # The mutex is held for one op or one change of the lock state, never while user code runs: wlock
    # and rlock are state (the holder and its depth, a table of readers) that every op checks under the
    # mutex. A thread that has to wait for them parks on a lock of its own, which unlock() or close()
    # releases; so close() never blocks, and it wakes everyone. An rlock taken under this thread's
    # wlock counts as part of it (unlock() drops wlock's depth first).
    def __init__(self, obj=None, size=0):
        import _thread
        self._ident = _thread.get_ident
        self._new_lock = _thread.allocate_lock
        self.mutex = _thread.allocate_lock()
        # update counter, flags, size, 1 if obj's length is checked, wlock depth, and the id of the thread
        # holding wlock as two 32-bit halves (the fast path reads and writes them all, under the mutex)
        self.state = array('i', (0, 0, size, 0 if obj is None else 1, 0, 0, 0))
        self._obj = obj  # a user's buffer whose length is checked per op (it may have been resized)
        self._size = size
        self._readers = {}  # thread -> rlock depth
        self._queue = []  # locks of threads waiting for the lock state to change (unlock, close)
        self._sleepers = []  # locks of threads in wait() without a timeout (bump, close)
        self._flags = []  # asyncio ThreadSafeFlags that bump() sets

    def _holds(self, me):
        # True when thread me holds wlock
        st = self.state
        return st[4] > 0 and st[5] == _half(me) and st[6] == _half(me >> 32)

    def _enter(self, write):
        # takes the mutex once no other thread holds wlock (and, to write, no thread holds rlock);
        # returns this thread's id, holding the mutex
        me = self._ident()
        self.mutex.acquire()
        while True:
            if self.state[1] & _CLOSED:
                self.mutex.release()
                _closed()
            if self._holds(me) or not self.state[4] and not (write and self._readers):
                break
            if not self.state[4] and me in self._readers:
                self.mutex.release()
                _refuse_upgrade()
            self._park()
        if self._obj is not None and len(self._obj) != self._size:
            self.mutex.release()
            _resized(self._size, len(self._obj))
        return me

    def _park(self):
        # called holding the mutex: sleeps without it until unlock() or close() changes the lock state
        lk = self._new_lock()
        lk.acquire()
        self._queue.append(lk)
        self.state[1] |= _QUEUED
        self.mutex.release()
        lk.acquire()
        self.mutex.acquire()

    def _let_in(self):
        # under the mutex: every parked thread looks at the lock state again
        if self._queue:
            for lk in self._queue:
                lk.release()
            self._queue = []
            self.state[1] &= ~_QUEUED

    def enter_read(self):
        self._enter(False)

    def enter_write(self):
        self._enter(True)

    def leave(self):
        self.mutex.release()

    def lock_read(self):
        me = self._enter(False)
        if self._holds(me):
            self.state[4] += 1
        else:
            self._readers[me] = self._readers.get(me, 0) + 1
            self.state[1] |= _READERS
        self.mutex.release()

    def lock_write(self):
        me = self._enter(True)
        st = self.state
        if self._holds(me):
            st[4] += 1
        else:
            st[4] = 1
            st[5] = _half(me)
            st[6] = _half(me >> 32)
            st[1] |= _WLOCKED
        self.mutex.release()

    def unlock(self):
        me = self._ident()
        self.mutex.acquire()
        try:
            st = self.state
            if self._holds(me):
                st[4] -= 1
                if not st[4]:
                    st[1] &= ~_WLOCKED
                    self._let_in()
                return True
            d = self._readers.get(me, 0)
            if d > 1:
                self._readers[me] = d - 1
            elif d:
                del self._readers[me]
                if not self._readers:
                    self.state[1] &= ~_READERS
                    self._let_in()
            return d > 0
        finally:
            self.mutex.release()

    def wake(self):
        # under the mutex: releases the sleepers of wait() and sets every watched flag
        for lk in self._sleepers:
            lk.release()
        if self._sleepers:
            self._sleepers = []
        for f in self._flags:
            f.set()
        if not self._flags:
            self.state[1] &= ~_WAKE

    def wait(self, freq, timeout, since):
        st = self.state
        if since is None:
            since = st[0]
        if timeout:
            return _poll(self, freq, timeout, since)
        lk = None
        self.mutex.acquire()
        while True:
            if st[1] & _CLOSED:
                self.mutex.release()
                _closed()
            if st[0] != since:
                self.mutex.release()
                return True
            if lk is None:
                lk = self._new_lock()
                lk.acquire()
            self._sleepers.append(lk)
            st[1] |= _WAKE
            self.mutex.release()
            lk.acquire()  # released by bump() or close(); held again, ready for another round
            self.mutex.acquire()

    def watch(self, flag):
        self.mutex.acquire()
        self._flags.append(flag)
        self.state[1] |= _WAKE
        self.mutex.release()

    def unwatch(self, flag):
        self.mutex.acquire()
        if flag in self._flags:
            self._flags.remove(flag)
        if not self._flags and not self._sleepers:
            self.state[1] &= ~_WAKE
        self.mutex.release()

    def close(self):
        # never blocks for long (nobody holds the mutex while user code runs): every hold is dropped,
        # parked threads and sleepers wake and find the area closed
        self.mutex.acquire()
        self.state[1] = _CLOSED
        self.state[4] = 0
        self._readers = {}
        self._let_in()
        self.wake()
        self._flags = []
        self.mutex.release()

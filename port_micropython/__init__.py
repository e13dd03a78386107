# MicroPython backend: bytearray (or fixed-address) memory, locking by _thread or machine.disable_irq,
# and wait() on the update counter. No files here: file= and fd= raise a clear error.
import time

from ..area import SharedAreaError

try:
    import _thread
except ImportError:
    _thread = None
try:
    from machine import disable_irq, enable_irq
except ImportError:
    disable_irq = None

PAGE_SIZE = 4096
try:
    from os import getenv  # the unix port has it; boards have no environment
except ImportError:
    getenv = None


REGISTRY_LOCK = _thread.allocate_lock() if _thread else None


class _Base:
    # the update counter and wait(); subclasses add the locks
    def __init__(self):
        self._n = 0
        self._ws = None  # locks of threads waiting forever, released by bump()

    def bump(self):
        # called inside an op; allocates nothing unless a thread waits forever
        self._n = (self._n + 1) & 0x3FFFFFFF
        if self._ws:
            for lk in self._ws:
                lk.release()
            self._ws = None

    def count(self):
        return self._n

    def wait(self, freq, timeout):
        n0 = self._n
        if not timeout and _thread:
            lk = _thread.allocate_lock()
            lk.acquire()
            self.w()
            try:
                if self._n != n0:
                    return True
                if self._ws is None:
                    self._ws = []
                self._ws.append(lk)
            finally:
                self.done()
            lk.acquire()  # released by the next bump()
            return True
        t0 = time.ticks_ms()
        ms = int(timeout * 1000)
        while self._n == n0:
            left = ms - time.ticks_diff(time.ticks_ms(), t0) if timeout else freq
            if left <= 0:
                return False
            time.sleep_ms(min(int(freq), left) or 1)
        return True

    def close(self):
        pass


if _thread:
    class _Sync(_Base):
        # One mutex guards each op. wlock takes it and keeps it (owner + depth, so the holder's own ops
        # and a second wlock nest); rlock only counts readers, and writers wait for them to leave.
        def __init__(self):
            _Base.__init__(self)
            self._m = _thread.allocate_lock()
            self._own = None
            self._d = 0
            self._rd = {}

        def _mine(self):
            o = self._own
            return o is not None and o == _thread.get_ident()

        def r(self):
            if self._mine():
                self._d += 1
                return
            self._m.acquire()
            self._own = _thread.get_ident()
            self._d = 1

        def w(self):
            if self._mine():
                self._d += 1
                return
            me = _thread.get_ident()
            while True:
                self._m.acquire()
                if not self._rd:
                    break
                self._m.release()
                if me in self._rd:
                    raise SharedAreaError('this thread holds rlock on the area; a write needs wlock (unlock first)')
                time.sleep_ms(1)
            self._own = me
            self._d = 1

        def done(self):
            self._d -= 1
            if not self._d:
                self._own = None
                self._m.release()

        wl = w

        def rl(self):
            if self._mine():
                self._d += 1
                return
            me = _thread.get_ident()
            self._m.acquire()
            self._rd[me] = self._rd.get(me, 0) + 1
            self._m.release()

        def end(self):
            if self._mine():
                self.done()
                return True
            me = _thread.get_ident()
            self._m.acquire()
            d = self._rd.get(me, 0)
            if d > 1:
                self._rd[me] = d - 1
            elif d:
                del self._rd[me]
            self._m.release()
            return d > 0
else:
    class _Sync(_Base):
        # One thread: ops are critical sections with interrupts off (where machine has disable_irq);
        # rlock/wlock only count, so user code under wlock never runs with interrupts off.
        def __init__(self):
            _Base.__init__(self)
            self._wd = 0
            self._rd = 0
            self._st = 0

        def r(self):
            if disable_irq:
                self._st = disable_irq()

        def w(self):
            if self._rd and not self._wd:
                raise SharedAreaError('rlock is held on the area; a write needs wlock (unlock first)')
            self.r()

        def done(self):
            if disable_irq:
                enable_irq(self._st)

        def wl(self):
            self._wd += 1

        def rl(self):
            self._rd += 1

        def end(self):
            # the innermost hold is not recorded on one thread; wlock's count goes first
            if self._wd:
                self._wd -= 1
            elif self._rd:
                self._rd -= 1
            else:
                return False
            return True


class _Mem:
    def __init__(self, buf, size, obj=None):
        self.buf = buf
        self.size = size
        self.sync = _Sync()
        self.obj = obj

    def close(self):
        self.buf = None


def _view(b):
    try:
        return memoryview(b)
    except NameError:
        return b  # no memoryview on this firmware (the smallest boards): index the buffer itself


def anon(size):
    return _Mem(_view(bytearray(size)), size)


def wrap(obj):
    if type(obj) not in (bytearray, memoryview):
        raise TypeError('a sharedarea is made from a spec string, a number of pages or a writable buffer, not %s'
                        % type(obj).__name__)
    if not len(obj):
        raise SharedAreaError('a sharedarea needs at least one byte; the buffer is empty')
    v = _view(obj)
    v[0] = v[0]  # a read-only buffer (a view of bytes) raises TypeError here, before any area exists
    return _Mem(v, len(obj), obj)


def ptr(addr, size):
    if not addr:
        raise SharedAreaError('ptr=0 is a NULL pointer')
    try:
        import uctypes
        return _Mem(_view(uctypes.bytearray_at(addr, size)), size)
    except ImportError:
        pass
    from machine import mem8

    class _At:
        # fixed memory through machine.mem8, byte by byte
        def __len__(self):
            return size

        def __getitem__(self, i):
            return mem8[addr + i]

        def __setitem__(self, i, v):
            mem8[addr + i] = v
    return _Mem(_At(), size)


def _nofile(*a):
    raise SharedAreaError('file= and fd= areas are not available on MicroPython (no mmap on this port)')


file = fd = _nofile

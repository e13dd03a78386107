# MicroPython backend: bytearray (or fixed-address) memory, locking by _thread (threads.py) or
# machine.disable_irq, and wait() on the update counter. No files here: file= and fd= raise a clear error.
import gc
import time

from ..area import SharedAreaError

try:
    from machine import disable_irq, enable_irq
except ImportError:
    disable_irq = None
try:
    from os import getenv  # the unix port has it; boards have no environment
except ImportError:
    getenv = None

# the smallest boards (the micro:bit: about 10 KB of heap in all) get 256-byte pages and leave the
# sharedarea_* names out of the import (sharedarea.names() makes them)
TINY = gc.mem_free() + gc.mem_alloc() < 32768
PAGE_SIZE = 256 if TINY else 4096


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


try:
    import _thread
except ImportError:
    _thread = None
if _thread:
    from .threads import _Sync
    REGISTRY_LOCK = _thread.allocate_lock()
else:
    REGISTRY_LOCK = None

    class _Sync(_Base):
        # One thread: ops are critical sections with interrupts off (where machine has disable_irq);
        # rlock/wlock only count, so user code under wlock never runs with interrupts off.
        def __init__(self):
            _Base.__init__(self)
            self._wd = self._rd = self._st = 0

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


# the buffers an area can be made from; the micro:bit has no memoryview
try:
    _BUFS = (bytearray, memoryview)
except NameError:
    _BUFS = (bytearray,)


class _Mem:
    def __init__(self, buf, size, obj=None, ix=False):
        if _BUFS[-1] is not bytearray and not ix:
            buf = memoryview(buf)  # slices of a view copy nothing
        self.buf = buf
        self.size = size
        self.sync = _Sync()
        self.obj = obj
        self.ix = ix

    def close(self):
        self.buf = None


def anon(size):
    return _Mem(bytearray(size), size)


def wrap(obj):
    if type(obj) not in _BUFS:
        raise TypeError('a sharedarea is made from a spec string, a number of pages or a writable buffer, not %s'
                        % type(obj))
    if not len(obj):
        raise SharedAreaError('a sharedarea needs at least one byte; the buffer is empty')
    obj[0] = obj[0]  # a read-only buffer (a view of bytes) raises TypeError here, before any area exists
    return _Mem(obj, len(obj), obj)


def ptr(addr, size):
    if not addr:
        raise SharedAreaError('ptr=0 is a NULL pointer')
    try:
        import uctypes
        return _Mem(uctypes.bytearray_at(addr, size), size)
    except ImportError:
        from .mem8 import At  # no uctypes (the micro:bit): machine.mem8, byte by byte
        return _Mem(At(addr, size), size, None, True)


def _nofile(*a):
    raise SharedAreaError('file= and fd= areas need mmap, which MicroPython does not have')


file = fd = _nofile

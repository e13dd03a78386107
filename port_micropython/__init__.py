# MicroPython backend: bytearray (or fixed-address, fixed.py) memory, locking by machine.disable_irq on
# one thread or by _thread locks (threads.py), wait() on the update counter. No files: file= and fd=
# are refused by the spec parser (no mmap here).
import gc

from ..area import fail

try:
    from os import getenv  # the unix port has it; boards have no environment
except ImportError:
    getenv = None
try:
    _BUFS = (bytearray, memoryview)  # what an area can be made from
except NameError:
    _BUFS = (bytearray,)  # the micro:bit has no memoryview

# the smallest boards (the micro:bit: about 10 KB of heap in all) get 256-byte pages and load only the
# parts a program asks for (sharedarea.load)
TINY = gc.mem_free() + gc.mem_alloc() < 32768 or bool(getenv and getenv('SHAREDAREA_TINY'))  # (a test hook)
PAGE_SIZE = 256 if TINY else 4096


class Mem:
    # An area's memory and its sync (see core/area.py). On one thread: an op is a critical section with
    # interrupts off (r()/w() give disable_irq's state, done() restores it); rlock/wlock only count, so
    # user code under wlock never runs with interrupts off. Until the part locks is loaded nothing can be
    # held, so w() needs no check and end() finds nothing: builtins do (no code, no heap); load() then
    # brings the rest (one.py). threads.py has the other kind of sync.
    bind = None
    try:
        from machine import disable_irq as r, enable_irq as done
    except ImportError:  # no machine.disable_irq here: nothing to switch off
        r = done = int
    r = w = staticmethod(r)
    done = staticmethod(done)
    end = staticmethod(bool)  # False: nothing held
    _fl = ()  # asyncio.ThreadSafeFlags that bump() sets (await area.changed()); replaced, never changed

    def __init__(self, buf, size, obj=None, ix=TINY):
        # ix: bytes go one by one (no buffer protocol, or, on the smallest boards, no slice assignment)
        if len(_BUFS) > 1 and not ix:
            buf = memoryview(buf)  # slices of a view copy nothing
        self.buf = buf
        self.size = size
        self.obj = obj
        self.ix = ix
        self.sync = self
        self._n = self._wd = self._rd = 0

    def close(self):
        self.buf = None
        for f in self._fl:
            f.set()  # an await area.changed() wakes and finds the area closed

    def bump(self):
        self._n = (self._n + 1) & 0x3FFFFFFF
        fl = self._fl
        i = len(fl)
        while i:  # by index: no iterator to allocate, as bump() may run in an IRQ handler
            i -= 1
            fl[i].set()

    def watch(self, flag):
        self._fl += (flag,)  # a new tuple: a bump() in another thread sees the old one or this one

    def unwatch(self, flag):
        self._fl = tuple(f for f in self._fl if f is not flag)

    def count(self):
        return self._n


One = Mem  # the single-thread kind, which threads.py builds on
REGISTRY_LOCK = None
try:
    import _thread  # noqa: F401 (present: threads)
    from .threads import Mem, REGISTRY_LOCK  # noqa: F401, F811
except ImportError:
    pass


def on_load(part):
    # called by sharedarea.load(): the parts locks and extra need the rest of the sync (one.py completes
    # One), and spec asks for ptr (ptr= areas, fixed.py), loaded here at the top of a program rather than
    # from inside add(), which would be too deep for the micro:bit's C stack
    global ptr
    if part in ('locks', 'extra'):
        from . import one  # noqa: F401
    if part == 'spec':
        from .fixed import ptr


def anon(size):
    return Mem(bytearray(size), size)


def wrap(obj):
    if type(obj) not in _BUFS:
        fail('buffer', type(obj))
    if not len(obj):
        fail('empty')
    obj[0] = obj[0]  # a read-only buffer (a view of bytes) raises TypeError here, before any area exists
    return Mem(obj, len(obj), obj)


# MicroPython port: an area's memory is a bytearray (or fixed memory through uctypes); locking and
# waiting come from .sync (interrupts off on one thread, a _thread mutex where there are threads), and
# the hot methods from ._fast where the firmware has the viper emitter.
from ..area import SharedAreaError

try:
    import _thread
    from .sync import ThreadSync as Sync
except ImportError:
    _thread = None
    from .sync import IrqSync as Sync

PAGE_SIZE = 4096
_compiled = None  # ._fast.fast_methods once loaded (False: this firmware has no viper emitter)


def fast_methods(area):
    # the viper versions of the hot methods for one area (the core binds them on it); ._fast loads with
    # the first area, so a program pays its heap only once it makes one
    global _compiled
    if _compiled is None:
        try:
            from ._fast import fast_methods as _compiled
        except (ImportError, SyntaxError):  # no viper emitter: the core's methods do it all
            _compiled = False
    return _compiled(area) if _compiled else {}


def new_lock():
    return _thread.allocate_lock() if _thread else None


def thread_ident():
    return _thread.get_ident() if _thread else 0


def start_thread(fn):
    # fn() in a new thread; None where the port has no threads
    return _thread.start_new_thread(fn, ()) if _thread else None


def getenv(name):
    # the process environment where the firmware has one (the unix port); None on a board
    try:
        from os import getenv as get
    except ImportError:
        return None
    return get(name)


def random_bytes(n):
    # n bytes for unguessable tokens: os.urandom where the firmware has it (a hardware RNG on most boards)
    try:
        from os import urandom
    except ImportError:
        import random
        return bytes(random.getrandbits(8) for _ in range(n))
    return urandom(n)


class Memory:
    # buf: what the core indexes and slices; obj: the user's buffer (area.object()), else None. A user's
    # bytearray is buf itself (a view of it would point at freed memory once the user grows it), and the
    # sync checks its length per op.
    def __init__(self, buf, size, kind, obj=None):
        self.buf = buf
        self.size = size
        self.kind = kind
        self.obj = obj
        self.sync = Sync(obj if type(obj) is bytearray else None, size)

    def close(self):
        self.buf = None


def anonymous(size):
    return Memory(memoryview(bytearray(size)), size, 'anonymous')


def from_buffer(obj):
    if type(obj) is not bytearray and type(obj) is not memoryview:
        raise TypeError('a sharedarea is made from a spec string, a number of pages or a bytearray, not %s'
                        % type(obj).__name__)
    if not len(obj):
        raise SharedAreaError('a sharedarea needs at least one byte; the buffer is empty')
    obj[0] = obj[0]  # a read-only buffer (a view of bytes) raises TypeError here, before any area exists
    # the object itself, not a view of it: a bytearray the user grows moves, and a view would point at freed memory
    return Memory(obj, len(obj), 'buffer', obj)


def at_address(addr, size):
    try:
        import uctypes
    except ImportError:
        raise SharedAreaError('ptr= areas need uctypes, which this MicroPython port does not have')
    return Memory(uctypes.bytearray_at(addr, size), size, 'ptr')

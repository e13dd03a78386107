# Where the heap allows (everywhere but the micro:bit), sharedarea loads every part at import, and this
# makes read8 .. dec64 up front too, so the class has every method as if written in it (help(), dir(),
# the compiled path's fallbacks, which look methods up on the class).
from . import extra, locks
from .area import SharedArea
from .ints import INTS, make


def everything():
    ints = tuple(k + str(w) for k in INTS for w in (8, 16, 32, 64))
    for k in locks.METHODS + extra.METHODS + ints:
        f = make(None, k) if k in ints else getattr(SharedArea, k)
        try:
            f.__name__ = k  # (the int methods are all made by one function)
            f.__qualname__ = 'SharedArea.' + k  # for help() and CPython's error messages
        except AttributeError:
            pass  # MicroPython can set neither
        setattr(SharedArea, k, f)

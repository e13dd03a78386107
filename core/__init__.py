# sharedarea: uWSGI's SharedArea (memory pages with atomic ops, locks and wait-for-update) for
# CPython and MicroPython. This module picks the port and keeps the id registry; uWSGI's function
# names (sharedarea_read, ...) come from .names.
import sys

from .area import SharedArea, SharedAreaError, _int, fail

if sys.implementation.name == 'micropython':
    from . import port_micropython as _port
else:
    from . import port_cpython as _port

PAGE_SIZE = _port.PAGE_SIZE
_areas = []


def add(spec):
    # spec: a --sharedarea string, a number of pages, or a writable buffer; returns the new id
    if isinstance(spec, str):
        from .spec import memory
        mem = memory(spec, _port)
    elif type(spec) is int:
        if spec <= 0:
            fail('pages', spec)
        mem = _port.anon(spec * PAGE_SIZE)
    else:
        mem = _port.wrap(spec)
    lk = _port.REGISTRY_LOCK  # None where there are no threads
    if lk:
        lk.acquire()
    try:
        i = len(_areas)
        _areas.append(SharedArea(i, mem))
    finally:
        if lk:
            lk.release()
    return i


def get(id):
    if type(id) is not int:
        _int(id, 'id')
    if 0 <= id < len(_areas):
        a = _areas[id]
        if a._b is not None:
            return a
        fail('closed', id)
    fail('id', id, len(_areas))


def close(id):
    # closing twice is fine; an id that never existed is an error
    if type(id) is not int or not 0 <= id < len(_areas):
        get(id)
    _areas[id].close()


def names():
    # makes uWSGI's sharedarea_* functions here. Done at import, except on the smallest boards (the
    # micro:bit), where they would take a third of the heap: there a program that wants them calls this.
    from .names import make
    make(globals(), _port)


# every method on the class now (help(), dir(), the fast path's fallbacks) and the sharedarea_* names,
# except on the smallest boards (there methods come on first use, and names() makes the names)
if not _port.TINY:
    from .names import everything
    everything(globals(), _port)

# sharedarea: uWSGI's SharedArea (memory pages with atomic ops, locks and wait-for-update) for
# CPython and MicroPython. This module picks the port and keeps the id registry; uWSGI's function
# names (sharedarea_read, ...) come from .names.
import sys

from .area import SharedArea, SharedAreaError, fail  # noqa: F401 (SharedAreaError is public)

if sys.implementation.name == 'micropython':
    from . import port_micropython as _port
else:
    from . import port_cpython as _port

PAGE_SIZE = _port.PAGE_SIZE
_areas = []


def add(spec):
    # spec: a --sharedarea string, a number of pages, or a writable buffer; returns the new id
    if isinstance(spec, str):
        # "N", "pages=N" and "size=N" in plain decimal need no parser (the micro:bit may not have the heap
        # to load it); any other string goes to .spec, which says what is wrong with a bad one
        k, v = ('pages', spec) if spec.isdigit() else (spec.split('=', 1) + [''])[:2]
        if k in ('pages', 'size') and v.isdigit() and len(v) < 10 and int(v):
            mem = _port.anon(int(v) * (PAGE_SIZE if k == 'pages' else 1))
        else:
            from .spec import memory
            mem = memory(spec, _port)
    elif type(spec) is int:
        if spec <= 0:
            fail('pages', spec)
        mem = _port.anon(spec * PAGE_SIZE)
    else:
        mem = _port.wrap(spec)
    if _port.REGISTRY_LOCK:  # (None where there are no threads)
        _port.REGISTRY_LOCK.acquire()
    try:
        i = len(_areas)
        _areas.append(SharedArea(i, mem))
    finally:
        if _port.REGISTRY_LOCK:
            _port.REGISTRY_LOCK.release()
    return i


def get(id):
    if type(id) is not int or not 0 <= id < len(_areas) or _areas[id]._b is None:
        fail('get', _areas, id)
    return _areas[id]


def close(id):
    # closing twice is fine; an id that never existed is an error
    if type(id) is not int or not 0 <= id < len(_areas):
        fail('get', _areas, id)
    _areas[id].close()


PARTS = ('ints', 'locks', 'extra', 'errors', 'spec', 'names')


def load(*parts):
    # Loads parts of the library now: ints (read8 .. dec64), locks, extra (readfast, wait, update,
    # memoryview, object), errors (the messages), spec (spec strings), names (the sharedarea_* functions).
    # Where the heap allows, all are loaded at import. On the micro:bit a program loads the parts it uses,
    # at its top level (sharedarea.load('ints', 'locks')): each costs heap, and loading one deep inside
    # calls would overflow the firmware's small C stack. (errors and spec still load on first use there,
    # and a failure that cannot load the messages raises its error with the values only.)
    for p in parts:
        if p not in PARTS:
            fail('part', p, ' '.join(PARTS))
        m = getattr(__import__(__name__ + '.' + p), p)
        for k in getattr(m, 'METHODS', ()):
            setattr(SharedArea, k, getattr(m, k))
        if p == 'ints':
            SharedArea._make = m.make
        elif p == 'names':
            m.make(globals(), _port)
        if hasattr(_port, 'on_load'):
            _port.on_load(p)  # what the port needs for that part


# all parts now, with every method on the class (help(), dir(), the fast path's fallbacks), and the web
# half's names on first use, except on the smallest boards
if not _port.TINY:
    load(*PARTS)
    from .full import everything
    everything()

    def __getattr__(name):  # the web half loads on first use: sharedarea.ws, websocket_send_*_from_sharedarea
        if name == 'ws' or name.startswith('websocket_send'):
            ws = __import__(__name__ + '.ws').ws  # (not `from . import ws`: that asks this function again)
            return ws if name == 'ws' else getattr(ws, name)
        raise AttributeError('sharedarea has no attribute %r' % name)

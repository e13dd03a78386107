# sharedarea: uWSGI's SharedArea (memory pages with atomic ops, locks and wait-for-update) for
# CPython and MicroPython. This module picks the port, keeps the id registry and the uWSGI names.
import sys

from .area import INTS, SharedArea, SharedAreaError, _int, _method

if sys.implementation.name == 'micropython':
    from . import port_micropython as _port
else:
    from . import port_cpython as _port

PAGE_SIZE = _port.PAGE_SIZE
_areas = []


def add(spec):
    # spec: a --sharedarea string, a number of pages, or a writable buffer; returns the new id
    if isinstance(spec, str):
        from .spec import parse
        kv = parse(spec, PAGE_SIZE)
        if 'file' in kv:
            mem = _port.file(kv['file'], kv.get('size'), kv.get('offset', 0))
        elif 'fd' in kv:
            mem = _port.fd(kv['fd'], kv['size'], kv.get('offset', 0))
        elif 'ptr' in kv:
            mem = _port.ptr(kv['ptr'], kv['size'])
        else:
            mem = _port.anon(kv['size'])
    elif type(spec) is int:
        if spec <= 0:
            raise SharedAreaError('bad sharedarea spec %d: pages must be more than 0' % spec)
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
        raise SharedAreaError('sharedarea %d is closed' % id)
    raise SharedAreaError('no sharedarea %d (%s)' % (id, 'ids are 0..%d' % (len(_areas) - 1) if _areas else 'none added yet'))


def close(id):
    # closing twice is fine; an id that never existed is an error
    if type(id) is not int:
        _int(id, 'id')
    if not 0 <= id < len(_areas):
        get(id)
    _areas[id].close()


# uWSGI's function names: sharedarea_<op>(id, ...) calls get(id).<op>(...)
def _fn(op, ret):
    def f(id, *args):
        r = getattr(get(id), op)(*args)
        if ret:
            return r
    return f


def names():
    # makes the sharedarea_* names; done at import, except on the smallest boards (the micro:bit), where
    # they would take about 2.5 KB of its 9 KB heap: there a program that wants them calls this first
    g = globals()
    for op in ('read write readfast wait update memoryview object rlock wlock unlock ' + ' '.join(
            k + str(w) for k in INTS for w in (8, 16, 32, 64))).split():
        g['sharedarea_' + op] = _fn(op, 'lock' not in op)
    for alias, op in (('readbyte', 'read8'), ('writebyte', 'write8'), ('readlong', 'read64'),
                      ('writelong', 'write64'), ('inclong', 'inc64')):
        g['sharedarea_' + alias] = g['sharedarea_' + op]
    # a port may swap in compiled versions of these functions (same behaviour)
    if hasattr(_port, 'functions'):
        _port.functions(g)


if not _port.TINY:
    for _k in INTS:
        for _w in (8, 16, 32, 64):
            setattr(SharedArea, _k + str(_w), _method(_k + str(_w)))
    names()

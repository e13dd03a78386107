# sharedarea: uWSGI's SharedArea (memory pages with atomic ops, locks and wait-for-update) for CPython
# and MicroPython. The public names: add/get/close and the id registry, uWSGI's sharedarea_* functions.
import sys

from .area import SharedArea, SharedAreaError

if sys.implementation.name == 'micropython':
    from . import port_micropython as _port
else:
    from . import port_cpython as _port

__version__ = '0.2.0'  # the same as pyproject.toml and package.json (tests/cpython/test_package.py checks)
PAGE_SIZE = _port.PAGE_SIZE
if sys.implementation.name != 'micropython':
    SharedAreaError.__module__ = __name__  # tracebacks and repr() say sharedarea.SharedAreaError

_areas = []  # id -> SharedArea (a closed one stays as a small record, so ids are never reused by add())
_lock = _port.new_lock()  # guards _areas; None where the port has no threads


class _Registry:
    # `with _registry:` around changes to _areas
    def __enter__(self):
        if _lock:
            _lock.acquire()

    def __exit__(self, *exc):
        if _lock:
            _lock.release()


_registry = _Registry()


def _memory(spec):
    # the port's memory for a spec string, a page count or a writable buffer
    if isinstance(spec, str):
        from .spec import parse
        kv = parse(spec, PAGE_SIZE)
        for key, maker in (('file', 'from_file'), ('fd', 'from_fd'), ('ptr', 'at_address')):
            if key in kv:
                if not hasattr(_port, maker):
                    raise SharedAreaError('%s= areas need %s, which the %s port does not have'
                                          % (key, 'mmap' if key != 'ptr' else 'fixed-address memory',
                                             sys.implementation.name))
                if key == 'ptr':
                    return _port.at_address(kv['ptr'], kv['size'])
                if key == 'file':
                    return _port.from_file(kv['file'], kv.get('size'), kv.get('offset', 0), kv.get('shared', 'user'))
                return getattr(_port, maker)(kv[key], kv.get('size'), kv.get('offset', 0))
        return _port.anonymous(kv['size'])
    if type(spec) is int:
        if spec <= 0:
            raise SharedAreaError('bad sharedarea spec %d: pages must be more than 0' % spec)
        if spec > 0xFFFFFFFFFFFF:  # (not printed: it may have more digits than str() takes)
            raise SharedAreaError('bad sharedarea spec: more than 2**48 pages is memory nobody has')
        return _port.anonymous(spec * PAGE_SIZE)
    return _port.from_buffer(spec)


def add(spec):
    """Creates an area from a spec string ("4", "size=100", "file=/dev/shm/x,size=4096", ...), a page
    count or a writable buffer; returns its id (0, 1, 2, ... in creation order)."""
    if isinstance(spec, str) and (spec.startswith('redis=') or ',redis=' in spec):  # issue 15: docs/redis.md
        from .redis_area import RedisArea
        far = RedisArea(spec, page=PAGE_SIZE)  # an area kept in Redis: connected and checked first
        with _registry:
            _areas.append(far.number(len(_areas)))
            return far.id
    mem = _memory(spec)
    with _registry:
        return _register(mem)


# the port's subclass with compiled hot methods, where it has one (same behaviour, same errors)
_Area = getattr(_port, 'FastArea', None) or SharedArea


def _register(mem):
    # the next id for that memory; the caller holds _registry
    i = len(_areas)
    _areas.append(_Area(i, mem, getattr(_port, 'fast_methods', None)))
    return i


def _unpickle(key, make, args):
    # an area pickled in another process (multiprocessing): the one this process has over that memory, or
    # a new one with the next id
    mem = make(*args)
    with _registry:
        for a in _areas:
            if a._buf is not None and getattr(getattr(a, '_mem', None), 'key', None) == key:
                break
        else:
            return _areas[_register(mem)]
    mem.sync.close()
    mem.close()
    return a


def _lookup(id):
    # the area with that id, closed or not
    if type(id) is not int:
        raise TypeError('id must be an int, not %s' % type(id).__name__)
    try:
        a = _areas[id] if id >= 0 else None  # (one index, no check-then-index: configure() may empty the list meanwhile)
    except IndexError:
        a = None
    if a is None:
        raise SharedAreaError('no sharedarea %d (%d added)' % (id, len(_areas)))
    return a


def get(id):
    """The SharedArea with that id."""
    a = _lookup(id)
    if a._buf is None:
        raise SharedAreaError('sharedarea %d is closed' % id)
    return a


def close(id):
    """Closes the area with that id; closing twice is fine."""
    _lookup(id).close()


def load(*parts):
    """Does nothing: every part is loaded at import (kept for programs written for sharedarea 0.1)."""


# uWSGI's function forms: sharedarea_<op>(id, ...) is get(id).<op>(...); `len=` is uWSGI's name for length
_OPS = ('read', 'write', 'readfast', 'wait', 'update', 'memoryview', 'object', 'rlock', 'wlock', 'unlock',
        'read8', 'read16', 'read32', 'read64', 'write8', 'write16', 'write32', 'write64',
        'inc8', 'inc16', 'inc32', 'inc64', 'dec8', 'dec16', 'dec32', 'dec64')
_ALIASES = (('readbyte', 'read8'), ('writebyte', 'write8'), ('readlong', 'read64'), ('writelong', 'write64'),
            ('inclong', 'inc64'))


def _function(op):
    locks = op in ('rlock', 'wlock', 'unlock')  # uWSGI's lock functions return nothing

    def f(id, *args, **kw):
        if 'len' in kw:
            kw['length'] = kw.pop('len')
        r = getattr(get(id), op)(*args, **kw)
        if not locks:
            return r
    try:
        f.__name__ = f.__qualname__ = 'sharedarea_' + op
        f.__doc__ = getattr(SharedArea, op).__doc__
    except AttributeError:
        pass  # MicroPython's functions take neither
    return f


def _functions(g):
    for op in _OPS:
        g['sharedarea_' + op] = _function(op)
    for alias, op in _ALIASES:
        g['sharedarea_' + alias] = g['sharedarea_' + op]
    if hasattr(_port, 'fast_functions'):
        _port.fast_functions(g)  # compiled versions of the data ops' function forms (same behaviour)


_functions(globals())


def __getattr__(name):  # the web half loads on first use: sharedarea.ws, websocket_send_*_from_sharedarea
    if name == 'ws' or name.startswith('websocket_send'):
        ws = __import__(__name__ + '.ws').ws  # (not `from . import ws`: that asks this function again)
        return ws if name == 'ws' else getattr(ws, name)
    raise AttributeError('module sharedarea has no attribute %r' % name)

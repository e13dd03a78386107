# uWSGI's function names: sharedarea_<op>(id, ...) calls sharedarea.get(id).<op>(...). And, where the
# heap allows (not on the micro:bit), every SharedArea method on the class at import.
from . import extra, locks
from .area import SharedArea
from .more import INTS, method


def _fn(get, op, ret):
    def f(id, *args):
        r = getattr(get(id), op)(*args)
        if ret:
            return r
    return f


def make(g, port):
    # g: the sharedarea module's namespace
    for op in ('read write readfast wait update memoryview object rlock wlock unlock ' + ' '.join(
            k + str(w) for k in INTS for w in (8, 16, 32, 64))).split():
        g['sharedarea_' + op] = _fn(g['get'], op, 'lock' not in op)
    for alias, op in (('readbyte', 'read8'), ('writebyte', 'write8'), ('readlong', 'read64'),
                      ('writelong', 'write64'), ('inclong', 'inc64')):
        g['sharedarea_' + alias] = g['sharedarea_' + op]
    # a port may swap in compiled versions of these functions (same behaviour)
    if hasattr(port, 'functions'):
        port.functions(g)


def everything(g, port):
    for k in list(extra.__dict__) + list(locks.__dict__) + [k + str(w) for k in INTS for w in (8, 16, 32, 64)]:
        f = method(k)
        if f:
            try:
                f.__qualname__ = 'SharedArea.' + k  # as if written in the class (help(), CPython's errors)
            except AttributeError:
                pass  # MicroPython has no __qualname__
            setattr(SharedArea, k, f)
    make(g, port)

# uWSGI's function names: sharedarea_<op>(id, ...) calls sharedarea.get(id).<op>(...).
# the methods that have a function form (written out: on the micro:bit these are names it has anyway,
# where names made up here would each be one more string on its heap)
OPS = ('read', 'write', 'readfast', 'wait', 'update', 'memoryview', 'object', 'rlock', 'wlock', 'unlock', 'read8',
       'read16', 'read32', 'read64', 'write8', 'write16', 'write32', 'write64', 'inc8', 'inc16', 'inc32', 'inc64',
       'dec8', 'dec16', 'dec32', 'dec64')


_get = None  # sharedarea.get, once make() has run


def _fn(op):
    # (a closure over op alone: on the micro:bit each closed-over name costs heap, for each function)
    def f(id, *args):
        r = getattr(_get(id), op)(*args)
        if 'lock' not in op:  # uWSGI's rlock/wlock/unlock return nothing
            return r
    return f


def make(g, port):
    # g: the sharedarea module's namespace. Only the names of methods the class has, or can make, now:
    # on the micro:bit, those of the parts loaded (each function costs its heap)
    global _get
    _get = g['get']
    cls = g['SharedArea']
    for op in OPS:
        if hasattr(cls, op) or op[-1] in '2468' and cls._make:
            g['sharedarea_' + op] = _fn(op)
    for alias, op in (('readbyte', 'read8'), ('writebyte', 'write8'), ('readlong', 'read64'),
                      ('writelong', 'write64'), ('inclong', 'inc64')):
        if 'sharedarea_' + op in g:
            g['sharedarea_' + alias] = g['sharedarea_' + op]
    # a port may swap in compiled versions of these functions (same behaviour)
    if hasattr(port, 'functions'):
        port.functions(g)

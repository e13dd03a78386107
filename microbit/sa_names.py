# The part names of the micro:bit edition of sharedarea (sharedarea.load('names')): uWSGI's function forms,
# sharedarea_<op>(id, ...) = sharedarea.get(id).<op>(...), for the methods SharedArea has when it loads.
import sharedarea

OPS = ('read', 'write', 'readfast', 'wait', 'update', 'object', 'memoryview', 'rlock', 'wlock', 'unlock',
       'read8', 'read16', 'read32', 'read64', 'write8', 'write16', 'write32', 'write64',
       'inc8', 'inc16', 'inc32', 'inc64', 'dec8', 'dec16', 'dec32', 'dec64')
ALIASES = (('readbyte', 'read8'), ('writebyte', 'write8'), ('readlong', 'read64'), ('writelong', 'write64'),
           ('inclong', 'inc64'))


def function(op):
    # sharedarea_<op>; `len=` is uWSGI's name for length; uWSGI's lock calls return None
    def f(id, *args, **kw):
        if 'len' in kw:
            kw['length'] = kw.pop('len')
        r = getattr(sharedarea.get(id), op)(*args, **kw)
        if 'lock' not in op:
            return r
    return f


def functions():
    # {name: function}, only for the methods there are now (each costs about 100 bytes of heap)
    out = {}
    for op in OPS:
        if hasattr(sharedarea.SharedArea, op) or op[-1] in '2468' and sharedarea.SharedArea._make:
            out['sharedarea_' + op] = function(op)
    for alias, op in ALIASES:
        if 'sharedarea_' + op in out:
            out['sharedarea_' + alias] = out['sharedarea_' + op]
    return out

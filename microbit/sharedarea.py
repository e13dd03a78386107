# sharedarea for the BBC micro:bit v1 (MicroPython 1.9.2, 16 KB of RAM): a small edition with the subset
# of the API that fits there (docs/microbit.md); the same names, results and messages as the library.
from sa_area import _INT, PAGE_SIZE, SharedArea, SharedAreaError  # noqa: F401 (public names, and one message)

_areas = []


def add(spec):
    """A new area from a spec string, a number of pages or a bytearray; returns its id."""
    obj = None
    addr = 0
    if type(spec) is int:
        if spec <= 0:
            raise SharedAreaError('bad sharedarea spec %d: pages must be more than 0' % spec)
        size = spec * PAGE_SIZE
    elif type(spec) is str:
        k, v = ('pages', spec) if spec.isdigit() else (spec.split('=', 1) + [''])[:2]
        if k in ('pages', 'size') and v.isdigit() and len(v) < 10 and int(v):
            size = int(v) * (PAGE_SIZE if k == 'pages' else 1)  # the common forms need no parser
        else:
            from sa_spec import parse
            size, addr = parse(spec)
    elif type(spec) is bytearray:
        if not spec:
            raise SharedAreaError('the buffer is empty; an area needs at least one byte')
        obj = spec
        size = len(spec)
    else:
        raise TypeError('add() takes a spec string, a page count or a bytearray (micro:bit edition), not %s'
                        % type(spec))
    if addr:
        from machine import mem8
        mem = mem8
    else:
        mem = obj or bytearray(size)
    i = len(_areas)
    _areas.append(SharedArea(i, mem, addr, size, obj))
    return i


def get(id):
    """The area with that id."""
    if type(id) is not int:
        raise TypeError(_INT % ('id', type(id)))
    if not 0 <= id < len(_areas):
        raise SharedAreaError('no sharedarea %d (%d added)' % (id, len(_areas)))
    _areas[id]._chk(0, 0)  # raises if it is closed
    return _areas[id]


def close(id):
    """Closes the area with that id; twice is fine."""
    if type(id) is not int or not 0 <= id < len(_areas):
        get(id)  # says what is wrong with the id
    _areas[id].close()


PARTS = ('ints', 'locks', 'wait', 'extra', 'names', 'spec')


def load(*parts):
    """Loads parts of the edition now (see PARTS); the main library has them all at import."""
    # the heap has room for only some of them next to a program, so a program loads those it uses, at its
    # top level (a part imported deep inside calls can overflow the board's 1.8 KB C stack). Part p is the
    # module sa_p; the methods of its class P (Ints, Locks, Wait, Extra) go on SharedArea.
    for p in parts:
        if p not in PARTS:
            raise SharedAreaError('no part %r of sharedarea (parts: %s)' % (p, ' '.join(PARTS)))
        m = __import__('sa_' + p)
        if p == 'names':
            globals().update(m.functions())
        elif p != 'spec':
            cls = getattr(m, p[0].upper() + p[1:])
            for k in dir(cls):
                if k[:2] != '__' or k in ('__enter__', '__exit__', '__repr__'):
                    setattr(SharedArea, k, getattr(cls, k))

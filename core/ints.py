# The part ints: the integer methods read8 .. dec64, made from _op by method(name) when the class is first
# asked for one (SharedArea.__getattr__), or all at import where the heap allows (.full).
from struct import pack_into, unpack_from

from .area import SharedArea, fail

_FMT = {4: '<I', 8: '<Q'}


def _fit(v, w, what):
    if type(v) is not int:
        fail('int', what, v)
    b = w * 8
    if not -(1 << (b - 1)) <= v < 1 << b:
        raise OverflowError('%s %d does not fit in %d bits (%d..%d)' % (what, v, b, -(1 << (b - 1)), (1 << b) - 1))


def _get(b, pos, w, by):
    # the unsigned value of the w bytes at pos: byte by byte (by), or through struct
    if by:
        o = 0
        for i in range(pos + w - 1, pos - 1, -1):
            o = o << 8 | b[i]
        return o
    return unpack_from(_FMT[w], b, pos)[0]


def _put(b, pos, w, by, o):
    if by:
        for i in range(w):
            b[pos + i] = o >> i * 8 & 255
    else:
        pack_into(_FMT[w], b, pos, o)


def _op(self, pos, w, v=None, add=False):
    # integers of w bytes, little-endian two's complement at any offset. v None: read; else store v
    # (add False) or add v to what is there. Returns the value, signed. 8/16 bits (and memory
    # without the buffer protocol) go byte by byte and allocate nothing. (Small functions: the
    # micro:bit compiles each in its few KB of heap.)
    b = self._chk(pos, w)
    s = self._s
    by = w < 4 or self._ix
    t = s.r() if v is None else s.w()
    try:
        o = _get(b, pos, w, by)
        if v is not None:
            o = (o + v if add else v) & (1 << w * 8) - 1
            _put(b, pos, w, by, o)
            s.bump()
    finally:
        s.done(t)
    return o - (o >> (w * 8 - 1) << w * 8)  # signed


INTS = ('read', 'write', 'inc', 'dec')


METHODS = ()  # none to put on the class when this part loads: SharedArea.__getattr__ asks make()


def make(area, name):
    # SharedArea.__getattr__ for read8 .. dec64: the method, made on first use and kept on the class
    # (a call then allocates nothing, as in an interrupt handler it must not)
    f = method(name)
    if f is None:
        fail('unloaded', name)
    setattr(SharedArea, name, f)
    return getattr(area, name)


def _reader(w):
    def f(self, pos):
        return _op(self, pos, w)
    return f


def _writer(w):
    def f(self, pos, value):
        _fit(value, w, 'value')
        _op(self, pos, w, value)
    return f


def _adder(w, sign):
    def f(self, pos, amount=1):
        _fit(amount, w, 'amount')
        return _op(self, pos, w, sign * amount, True)
    return f


def method(name):
    # the method read8 .. dec64 called name, made from _op (None for any other name)
    k = name.rstrip('0123456789')
    d = name[len(k):]
    if k not in INTS or d not in ('8', '16', '32', '64'):
        return None
    w = int(d) // 8
    f = _reader(w) if k == 'read' else _writer(w) if k == 'write' else _adder(w, -1 if k == 'dec' else 1)
    try:
        f.__name__ = name  # for help() on CPython; MicroPython cannot set it
    except AttributeError:
        pass
    return f

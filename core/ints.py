# The part ints: the integer methods read8 .. dec64, made from _op by make() when the class is first
# asked for one (SharedArea.__getattr__), or all at import where the heap allows (.full).
from struct import pack_into, unpack_from

from .area import SharedArea, fail

_FMT = {4: '<I', 8: '<Q'}


def _fit(v, w, what):
    if type(v) is not int:
        fail('int', what, v)
    b = w * 8
    if not -(1 << (b - 1)) <= v < 1 << b:
        fail('overflow', what, v, b, -(1 << (b - 1)), (1 << b) - 1)


def _op(self, pos, w, v=None, add=False):
    # integers of w bytes, little-endian two's complement at any offset. v None: read; else store v
    # (add False) or add v to what is there. Returns the value, signed. 8/16 bits (and memory
    # without the buffer protocol) go byte by byte and allocate nothing.
    b = self._chk(pos, w)
    s = self._s
    t = s.r() if v is None else s.w()
    try:
        if w < 4 or self._ix:
            o = 0
            for i in range(pos + w - 1, pos - 1, -1):
                o = o << 8 | b[i]
        else:
            o = unpack_from(_FMT[w], b, pos)[0]
        if v is not None:
            o = (o + v if add else v) & (1 << w * 8) - 1
            if w < 4 or self._ix:
                for i in range(w):
                    b[pos + i] = o >> i * 8 & 255
            else:
                pack_into(_FMT[w], b, pos, o)
            s.bump()
    finally:
        s.done(t)
    return o - (o >> (w * 8 - 1) << w * 8)  # signed


INTS = ('read', 'write', 'inc', 'dec')


METHODS = ()  # none to put on the class when this part loads: SharedArea.__getattr__ asks make()


def make(area, name):
    # SharedArea.__getattr__ for read8 .. dec64 (area None: .full making them all up front): the method
    # called name, made from _op on first use and kept on the class (a call then allocates nothing, as
    # in an interrupt handler it must not)
    k = name.rstrip('0123456789')
    d = name[len(k):]
    if k not in INTS or d not in ('8', '16', '32', '64'):
        fail('unloaded', name)
    w = int(d) // 8
    if k == 'read':
        def f(self, pos):
            return _op(self, pos, w)
    elif k == 'write':
        def f(self, pos, value):
            _fit(value, w, 'value')
            _op(self, pos, w, value)
    else:
        sign = -1 if k == 'dec' else 1

        def f(self, pos, amount=1):
            _fit(amount, w, 'amount')
            return _op(self, pos, w, sign * amount, True)
    setattr(SharedArea, name, f)
    return f if area is None else getattr(area, name)

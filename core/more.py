# The SharedArea methods besides read, write and close: method(name) makes read8 .. dec64 from _op and
# finds the others in .locks and .extra (at import where the heap allows, on first use on the micro:bit).
from struct import pack_into, unpack_from

from .area import _int

_FMT = {4: '<I', 8: '<Q'}


def _fit(v, w, what):
    if type(v) is not int:
        _int(v, what)
    b = w * 8
    if not -(1 << (b - 1)) <= v < 1 << b:
        raise OverflowError('%s %d does not fit in %d bits (%d..%d)' % (what, v, b, -(1 << (b - 1)), (1 << b) - 1))


def _op(self, pos, w, v=None, add=False):
    # integers of w bytes, little-endian two's complement at any offset. v None: read; else store v
    # (add False) or add v to what is there. Returns the value, signed. 8/16 bits (and memory
    # without the buffer protocol) go byte by byte and allocate nothing.
    b = self._chk(pos, w)
    s = self._s
    by = w < 4 or self._ix
    t = s.r() if v is None else s.w()
    try:
        if by:
            o = 0
            for i in range(pos + w - 1, pos - 1, -1):
                o = o << 8 | b[i]
        else:
            o = unpack_from(_FMT[w], b, pos)[0]
        if v is not None:
            o = (o + v if add else v) & (1 << w * 8) - 1
            if by:
                for i in range(w):
                    b[pos + i] = o >> i * 8 & 255
            else:
                pack_into(_FMT[w], b, pos, o)
            s.bump()
    finally:
        s.done(t)
    if o >> (w * 8 - 1):
        o -= 1 << (w * 8)
    return o


INTS = ('read', 'write', 'inc', 'dec')


def method(name):
    # the SharedArea method called name, or None: read8 .. dec64 are made from _op here
    k = name.rstrip('0123456789')
    d = name[len(k):]
    if k not in INTS or d not in ('8', '16', '32', '64'):
        if name in ('rlock', 'wlock', 'unlock', '__enter__', '__exit__'):
            from . import locks as m
        elif name[0] != '_':  # no private or special name (copy, pickle and friends ask) loads .extra
            from . import extra as m
        else:
            return None
        f = getattr(m, name, None)
        return f if type(f) is type(method) else None
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
    try:
        f.__name__ = name  # for help() on CPython; MicroPython cannot set it
    except AttributeError:
        pass
    return f

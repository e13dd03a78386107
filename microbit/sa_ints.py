# The part ints of the micro:bit edition of sharedarea (sharedarea.load('ints')): read8 .. dec64 and their
# kernel, on one thread with interrupts off. load() puts Ints' methods on SharedArea.
from machine import disable_irq, enable_irq

from sa_area import _INT


class Ints:
    def _int(self, pos, w, v, how):
        # the integer of w bytes at pos, little-endian two's complement; how: 0 read, 1 store v, 2 add v,
        # 3 subtract v. Returns the value, signed. 8 and 16 bits allocate nothing.
        bits = w * 8
        if how and not isinstance(v, int):
            raise TypeError(_INT % ('value' if how == 1 else 'amount', type(v)))
        if how and not -(1 << bits - 1) <= v < 1 << bits:
            raise OverflowError('%s %d does not fit in %d bits (%d..%d)' % (
                'value' if how == 1 else 'amount', v, bits, -(1 << bits - 1), (1 << bits) - 1))
        o = self._chk(pos, w, how)
        b = self._b
        s = disable_irq()
        try:
            n = 0
            for i in range(w - 1, -1, -1):
                n = n << 8 | b[o + i]
            if how:
                n = (v if how == 1 else n + v if how == 2 else n - v) & (1 << bits) - 1
                for i in range(w):
                    b[o + i] = n >> i * 8 & 255
                self._n = (self._n + 1) & 0x3FFFFFFF
        finally:
            enable_irq(s)
        return n - (n >> bits - 1 << bits)

    def _make(self, name):
        # read8 .. dec64: each is made when first asked for (SharedArea.__getattr__) and kept on the class,
        # so a program pays heap only for those it uses (measured: about 50 bytes each; this part took 2816
        # bytes with all 16 written out, 1232 so), and a call allocates nothing
        k = name.rstrip('0123456789')
        d = name[len(k):]
        if k not in ('read', 'write', 'inc', 'dec') or d not in ('8', '16', '32', '64'):
            raise AttributeError(name)
        w = int(d) // 8
        if k == 'read':
            def f(self, pos):
                return self._int(pos, w, 0, 0)
        elif k == 'write':
            def f(self, pos, value):
                self._int(pos, w, value, 1)
        else:
            how = 2 if k == 'inc' else 3

            def f(self, pos, amount=1):
                return self._int(pos, w, amount, how)
        setattr(type(self), name, f)
        return getattr(self, name)

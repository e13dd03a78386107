# The part extra of the micro:bit edition of sharedarea (sharedarea.load('extra')): readfast, object, repr()
# and memoryview (which says it is missing). load() puts Extra's methods on SharedArea.
from machine import disable_irq, enable_irq

from sa_area import _INT, SharedAreaError


class Extra:
    def __repr__(self):
        return '<SharedArea id=%d size=%d %s%s>' % (
            self.id, self.size, 'ptr' if self._o else 'anonymous' if self._obj is None else 'buffer',
            ' closed' if self._b is None else '')

    def memoryview(self):
        """Not here: this firmware has no memoryview."""
        self._chk(0, 0)
        raise SharedAreaError('memoryview() needs memoryview, which the micro:bit edition does not have')

    def object(self):
        """The bytearray the area was made from."""
        self._chk(0, 0)
        if self._obj is None:
            raise SharedAreaError('sharedarea %d was not made from a buffer: no object() to return' % self.id)
        return self._obj

    def readfast(self, pos, buf, length=0):
        """Copies into buf (length 0: as many bytes as fit); returns how many."""
        if type(buf) is not bytearray:
            raise TypeError('readfast() copies into a bytearray here (micro:bit edition), not %s' % type(buf))
        n = len(buf)
        if type(length) is int and not 0 <= length <= n:
            raise SharedAreaError('sharedarea %d: length %d is not in 0..%d (the buffer size)' % (self.id, length, n))
        if type(length) is not int:
            raise TypeError(_INT % ('length', type(length)))
        if not length and type(pos) is int:
            length = min(n, self.size - pos)
        o = self._chk(pos, length)
        b = self._b
        s = disable_irq()
        for i in range(length):
            buf[i] = b[o + i]
        enable_irq(s)
        return length

# The area object of the micro:bit edition of sharedarea (sharedarea.py): bounds, read, write and close;
# one thread, each op with interrupts off. Its other methods come with the parts (sharedarea.load).
from machine import disable_irq, enable_irq

PAGE_SIZE = 256  # (4096 elsewhere: a page of that size is a quarter of this board's RAM)
_INT = '%s must be an int, not %s'  # (one string for each such message: every string costs heap here)


class SharedAreaError(ValueError):
    pass


class SharedArea:
    # _b: the memory (a bytearray, or machine.mem8 for ptr=), the area's bytes from index _o on; None once
    # closed (a class default too, so close() is safe twice). _n: the update counter; _w, _r: the wlock
    # and rlock holds (one thread: a hold only counts, and keeps this thread's writes out under rlock).
    _b = None
    _make = None  # the part ints puts its maker of read8 .. dec64 here

    def __init__(self, id, mem, offset, size, obj):
        self.id = id
        self.size = size
        self._b = mem
        self._o = offset
        self._obj = obj
        self._n = self._w = self._r = 0

    def __getattr__(self, name):
        # area.updates, the update counter (this firmware has no property()); read8 .. dec64 once the part
        # ints is loaded
        if name == 'updates':
            self._chk(0, 0)
            return self._n
        if self._make is None:
            raise AttributeError(name)
        return self._make(name)

    def _chk(self, pos, n, write=False):
        # the check every call makes: open, n bytes from pos inside the area, and no rlock for a write;
        # returns the index of pos in _b
        if self._b is None:
            raise SharedAreaError('sharedarea %d is closed' % self.id)
        if not self._o and len(self._b) != self.size:  # (a bytearray area: its user may have resized it)
            raise SharedAreaError('sharedarea %d: its bytearray has %d bytes now, not its size %d' % (
                self.id, len(self._b), self.size))
        if type(pos) is not int:
            raise TypeError(_INT % ('pos', type(pos)))
        if not 0 <= pos < self.size:
            raise SharedAreaError('sharedarea %d: pos %d is outside 0..%d' % (self.id, pos, self.size - 1))
        if n > self.size - pos:
            raise SharedAreaError('sharedarea %d: %d bytes at pos %d cross the end (size %d)' % (
                self.id, n, pos, self.size))
        if write and self._r and not self._w:
            raise SharedAreaError('this thread holds rlock on the area; upgrading it to a write is refused '
                                  '(unlock first)')
        return self._o + pos

    def read(self, pos, length=0):
        """Bytes from pos; length 0 reads to the end."""
        if type(length) is not int:
            raise TypeError(_INT % ('length', type(length)))
        if length < 0:
            raise SharedAreaError('sharedarea %d: length %d is negative' % (self.id, length))
        if not length and type(pos) is int:
            length = self.size - pos
        o = self._chk(pos, length)
        b = self._b
        r = bytearray(length)  # (made before interrupts go off, at its size: the heap here is cut up)
        s = disable_irq()
        for i in range(length):
            r[i] = b[o + i]
        enable_irq(s)
        return bytes(r)

    def write(self, pos, data):
        """Writes data (bytes, bytearray, or str as UTF-8) at pos."""
        if type(data) is str:
            data = bytes(data, 'utf-8')
        elif type(data) is not bytes and type(data) is not bytearray:
            raise TypeError('write() takes bytes, bytearray or str here (micro:bit edition), not %s' % type(data))
        n = len(data)
        o = self._chk(pos, n, True)
        b = self._b
        s = disable_irq()
        for i in range(n):
            b[o + i] = data[i]
        self._n = (self._n + 1) & 0x3FFFFFFF
        enable_irq(s)

    def close(self):
        """Lets the memory go and drops the locks; twice is fine."""
        self._b = self._obj = None
        self._w = self._r = 0

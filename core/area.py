# The SharedArea object: bounds, widths, overflow and wrap-around rules, the same on every runtime.
# Memory, locking and waiting come from the port; this module imports nothing runtime-specific.
from struct import pack_into, unpack_from


class SharedAreaError(ValueError):
    pass


# struct formats for the wide integers; 8 and 16 bits use byte arithmetic so they allocate nothing
_UFMT = {4: '<I', 8: '<Q'}


def _int(x, what):
    # bool is an int subclass on CPython; MicroPython has no int subclasses to worry about
    if not isinstance(x, int):
        raise TypeError('%s must be an int, not %s' % (what, type(x).__name__))


def _fit(v, w, what):
    if type(v) is not int:
        _int(v, what)
    b = w * 8
    if not -(1 << (b - 1)) <= v < (1 << b):
        raise OverflowError('%s %d does not fit in %d bits (%d..%d)' % (what, v, b, -(1 << (b - 1)), (1 << b) - 1))


def _flat(data):
    # a bytes-like object counts by its bytes: array('H') or a 2-D view is seen as flat unsigned bytes
    # (where memoryview can cast; MicroPython's cannot, and its writes take the object as it is)
    try:
        mv = memoryview(data)
    except (TypeError, NameError):
        return data  # not a buffer (or no memoryview on this board): len() or the copy below decides
    if getattr(mv, 'format', 'B') != 'B' or getattr(mv, 'ndim', 1) != 1:
        if mv.c_contiguous:
            return mv.cast('B')
    return data


class SharedArea:
    # class-level default: a closed (or half-made) area has no buffer, so close() is safe twice
    _b = None

    def __init__(self, id, mem):
        # mem (from the port): .buf (a writable buffer), .size, .sync (locks, counter, waiting),
        # .obj (the user's buffer, or None) and .close()
        self.id = id
        self.size = mem.size
        self._mem = mem
        self._s = mem.sync
        self._b = mem.buf
        # a port may give the area compiled versions of its hot ops (same rules, same errors)
        bind = getattr(mem, 'bind', None)
        if bind:
            bind(self)

    def __repr__(self):
        return '<SharedArea %d size=%d%s>' % (self.id, self.size, '' if self._b is not None else ' closed')

    def _chk(self, pos, n):
        # the one bounds check every call makes; returns the buffer
        b = self._b
        if b is None:
            raise SharedAreaError('sharedarea %d is closed' % self.id)
        if type(pos) is not int:
            _int(pos, 'pos')
        if pos < 0 or pos >= self.size:
            raise SharedAreaError('sharedarea %d: pos %d is outside 0..%d' % (self.id, pos, self.size - 1))
        if pos + n > self.size:
            raise SharedAreaError('sharedarea %d: %d bytes at pos %d cross the end (size %d)' % (self.id, n, pos, self.size))
        return b

    def _len(self, pos, length):
        # length 0 means "to the end"; the result is then checked by _chk
        if type(length) is not int:
            _int(length, 'length')
        if length < 0:
            raise SharedAreaError('sharedarea %d: length %d is negative' % (self.id, length))
        if length == 0 and type(pos) is int:
            return self.size - pos
        return length

    # bytes

    def read(self, pos, length=0):
        n = self._len(pos, length)
        b = self._chk(pos, n)
        s = self._s
        s.r()
        try:
            return bytes(b[pos:pos + n])
        finally:
            s.done()

    def write(self, pos, data):
        if isinstance(data, str):
            data = data.encode()
        elif type(data) is not bytes and type(data) is not bytearray:
            data = _flat(data)
        n = len(data)
        b = self._chk(pos, n)
        s = self._s
        s.w()
        try:
            b[pos:pos + n] = data
            s.bump()
        finally:
            s.done()

    def readfast(self, pos, buf, length=0):
        if type(length) is not int:
            _int(length, 'length')
        if length < 0:
            raise SharedAreaError('sharedarea %d: length %d is negative' % (self.id, length))
        if length > len(buf):
            raise SharedAreaError('sharedarea %d: length %d is more than the buffer holds (%d)' % (self.id, length, len(buf)))
        n = length
        if n == 0 and type(pos) is int:
            n = min(len(buf), self.size - pos)
        b = self._chk(pos, n)
        s = self._s
        s.r()
        try:
            memoryview(buf)[0:n] = b[pos:pos + n]
        finally:
            s.done()
        return n

    # integers: little-endian two's complement at any offset

    def _get(self, pos, w):
        b = self._chk(pos, w)
        s = self._s
        s.r()
        try:
            if w == 1:
                v = b[pos]
            elif w == 2:
                v = b[pos] | b[pos + 1] << 8
            else:
                v = unpack_from(_UFMT[w], b, pos)[0]
        finally:
            s.done()
        if v >> (w * 8 - 1):
            v -= 1 << (w * 8)
        return v

    def _put(self, pos, v, w, add):
        # add=False: store v; add=True: add v to what is there. Returns the new value, signed.
        b = self._chk(pos, w)
        s = self._s
        s.w()
        try:
            if w == 1:
                if add:
                    v += b[pos]
                v &= 0xFF
                b[pos] = v
            elif w == 2:
                if add:
                    v += b[pos] | b[pos + 1] << 8
                v &= 0xFFFF
                b[pos] = v & 0xFF
                b[pos + 1] = v >> 8
            else:
                f = _UFMT[w]
                if add:
                    v += unpack_from(f, b, pos)[0]
                v &= (1 << (w * 8)) - 1
                pack_into(f, b, pos, v)
            s.bump()
        finally:
            s.done()
        if v >> (w * 8 - 1):
            v -= 1 << (w * 8)
        return v

    def read8(self, pos):
        return self._get(pos, 1)

    def read16(self, pos):
        return self._get(pos, 2)

    def read32(self, pos):
        return self._get(pos, 4)

    def read64(self, pos):
        return self._get(pos, 8)

    def write8(self, pos, value):
        _fit(value, 1, 'value')
        self._put(pos, value, 1, False)

    def write16(self, pos, value):
        _fit(value, 2, 'value')
        self._put(pos, value, 2, False)

    def write32(self, pos, value):
        _fit(value, 4, 'value')
        self._put(pos, value, 4, False)

    def write64(self, pos, value):
        _fit(value, 8, 'value')
        self._put(pos, value, 8, False)

    def inc8(self, pos, amount=1):
        _fit(amount, 1, 'amount')
        return self._put(pos, amount, 1, True)

    def inc16(self, pos, amount=1):
        _fit(amount, 2, 'amount')
        return self._put(pos, amount, 2, True)

    def inc32(self, pos, amount=1):
        _fit(amount, 4, 'amount')
        return self._put(pos, amount, 4, True)

    def inc64(self, pos, amount=1):
        _fit(amount, 8, 'amount')
        return self._put(pos, amount, 8, True)

    def dec8(self, pos, amount=1):
        _fit(amount, 1, 'amount')
        return self._put(pos, -amount, 1, True)

    def dec16(self, pos, amount=1):
        _fit(amount, 2, 'amount')
        return self._put(pos, -amount, 2, True)

    def dec32(self, pos, amount=1):
        _fit(amount, 4, 'amount')
        return self._put(pos, -amount, 4, True)

    def dec64(self, pos, amount=1):
        _fit(amount, 8, 'amount')
        return self._put(pos, -amount, 8, True)

    # locks, waiting, the update counter

    def _live(self):
        if self._b is None:
            raise SharedAreaError('sharedarea %d is closed' % self.id)
        return self._s

    def rlock(self):
        s = self._live()
        s.rl()
        return self._held(s)

    def wlock(self):
        s = self._live()
        s.wl()
        return self._held(s)

    def _held(self, s):
        # closed by another thread while this one waited: let go, or the hold would outlive the area
        if self._b is None:
            s.end()
            self._live()
        return self

    def unlock(self):
        if not self._live().end():
            raise SharedAreaError('sharedarea %d: unlock() without a lock held by this thread' % self.id)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.unlock()

    def wait(self, freq=100, timeout=0):
        s = self._live()
        if not isinstance(freq, (int, float)) or not isinstance(timeout, (int, float)):
            raise TypeError('freq and timeout must be numbers')
        if not freq > 0 or not timeout >= 0:  # written so that NaN is refused too
            raise SharedAreaError('sharedarea %d: freq must be > 0 and timeout >= 0' % self.id)
        return s.wait(freq, timeout)

    def update(self):
        s = self._live()
        s.w()
        try:
            s.bump()
        finally:
            s.done()

    @property
    def updates(self):
        return self._live().count()

    def memoryview(self):
        self._live()
        return memoryview(self._b)

    def object(self):
        self._live()
        o = self._mem.obj
        if o is None:
            raise SharedAreaError('sharedarea %d was not made from a buffer; object() has nothing to return' % self.id)
        return o

    def close(self):
        if self._b is not None:
            self._b = None
            while self._s.end():
                pass  # what this thread still holds is let go, so nothing stays locked
            self._mem.close()

# The SharedArea object: bounds, widths, overflow and wrap-around rules, the same on every runtime.
# Memory, locking and waiting come from the port; this module imports nothing runtime-specific.
# Kept small on purpose: on a 16 KB micro:bit every function here costs heap at import (about 100 bytes
# each), so the 16 integer methods are made from one function when first asked for (see _method).
from struct import pack_into, unpack_from


class SharedAreaError(ValueError):
    pass


def _int(x, what):
    # bool is an int subclass on CPython; MicroPython has no int subclasses to worry about
    if not isinstance(x, int):
        raise TypeError('%s must be an int, not %s' % (what, type(x)))


def _fit(v, w, what):
    if type(v) is not int:
        _int(v, what)
    b = w * 8
    if not -(1 << (b - 1)) <= v < 1 << b:
        raise OverflowError('%s %d does not fit in %d bits (%d..%d)' % (what, v, b, -(1 << (b - 1)), (1 << b) - 1))


# where bytearray has no slice assignment (the micro:bit), every area is copied byte by byte (area._ix)
try:
    bytearray(1)[0:1] = b'x'
    _SLICES = True
except TypeError:
    _SLICES = False
_FMT = {4: '<I', 8: '<Q'}


class SharedArea:
    # class-level default: a closed (or half-made) area has no buffer, so close() is safe twice
    _b = None

    def __init__(self, id, mem):
        # mem (from the port): .buf (indexable memory), .size, .sync (locks, counter, waiting), .obj (the
        # user's buffer, or None), .close(); optional .ix (memory without the buffer protocol, as
        # machine.mem8: everything goes byte by byte, integers too) and .bind(area)
        self.id = id
        self.size = mem.size
        self._mem = mem
        self._s = mem.sync
        self._b = mem.buf
        self._ix = getattr(mem, 'ix', False) or not _SLICES
        # a port may give the area compiled versions of its hot ops (same rules, same errors)
        bind = getattr(mem, 'bind', None)
        if bind:
            bind(self)

    def __getattr__(self, name):
        # only called for names the class lacks: read8 .. dec64 are made here on first use and kept
        if name == 'updates':
            return self._live().count()
        f = _method(name)
        if f is None:
            raise AttributeError(name)
        setattr(SharedArea, name, f)
        return getattr(self, name)

    def _chk(self, pos, n):
        # the one bounds check every call makes; returns the buffer
        b = self._b
        if b is None:
            self._live()
        if type(pos) is not int:
            _int(pos, 'pos')
        if not 0 <= pos < self.size:
            raise SharedAreaError('sharedarea %d: pos %d is outside 0..%d' % (self.id, pos, self.size - 1))
        if pos + n > self.size:
            raise SharedAreaError('sharedarea %d: %d bytes at pos %d cross the end (size %d)' % (self.id, n, pos, self.size))
        return b

    def _len(self, pos, length, most):
        # length 0 means "as many as fit" (up to most); the result is then checked by _chk
        if type(length) is not int:
            _int(length, 'length')
        if not 0 <= length <= most:
            raise SharedAreaError('sharedarea %d: length %d is not in 0..%d' % (self.id, length, most))
        if length == 0 and type(pos) is int:
            return min(most, self.size - pos)
        return length

    # bytes

    def read(self, pos, length=0):
        n = self._len(pos, length, self.size)
        b = self._chk(pos, n)
        s = self._s
        s.r()
        try:
            if self._ix:
                return bytes(b[i] for i in range(pos, pos + n))
            return bytes(b[pos:pos + n])
        finally:
            s.done()

    def write(self, pos, data):
        if isinstance(data, str):
            data = bytes(data, 'utf-8')
        elif type(data) is not bytes and type(data) is not bytearray:
            data = _flat(data)
        n = len(data)
        b = self._chk(pos, n)
        s = self._s
        s.w()
        try:
            if self._ix:
                for i in range(n):
                    b[pos + i] = data[i]
            else:
                b[pos:pos + n] = data
            s.bump()
        finally:
            s.done()

    def readfast(self, pos, buf, length=0):
        n = self._len(pos, length, len(buf))
        b = self._chk(pos, n)
        s = self._s
        s.r()
        try:
            if self._ix:
                for i in range(n):
                    buf[i] = b[pos + i]
            else:
                memoryview(buf)[0:n] = b[pos:pos + n]
        finally:
            s.done()
        return n

    # integers: little-endian two's complement at any offset

    def _op(self, pos, w, v=None, add=False):
        # v None: read; else store v (add False) or add v to what is there. Returns the value, signed.
        # 8/16 bits (and memory without the buffer protocol) go byte by byte and allocate nothing
        b = self._chk(pos, w)
        s = self._s
        by = w < 4 or self._ix
        if v is None:
            s.r()
        else:
            s.w()
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
            s.done()
        if o >> (w * 8 - 1):
            o -= 1 << (w * 8)
        return o

    # locks, waiting, the update counter

    def _live(self):
        if self._b is None:
            raise SharedAreaError('sharedarea %d is closed' % self.id)
        return self._s

    def rlock(self):
        return self._lock(self._live().rl)

    def wlock(self):
        return self._lock(self._live().wl)

    def _lock(self, take):
        take()
        # closed by another thread while this one waited: let go, or the hold would outlive the area
        if self._b is None:
            self._s.end()
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

    def memoryview(self):
        self._live()
        try:
            return memoryview(self._b)
        except NameError:
            raise SharedAreaError('memoryview() needs memoryview, which this firmware does not have')

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


def _flat(data):
    # a bytes-like object counts by its bytes: array('H') or a 2-D view is seen as flat unsigned bytes
    # (where memoryview can cast; MicroPython's cannot, and its writes take the object as it is)
    try:
        mv = memoryview(data)
        if getattr(mv, 'format', 'B') != 'B' or getattr(mv, 'ndim', 1) != 1:
            return mv.cast('B')
    except (TypeError, NameError, AttributeError):
        pass  # not a buffer (or no memoryview here): len() and the copy decide
    return data


INTS = ('read', 'write', 'inc', 'dec')


def _method(name):
    # 'read8' .. 'dec64' -> that method of SharedArea, made from _op; None for any other name
    k = name.rstrip('0123456789')
    d = name[len(k):]
    if k not in INTS or d not in ('8', '16', '32', '64'):
        return None
    w = int(d) // 8
    if k == 'read':
        def f(self, pos):
            return self._op(pos, w)
    elif k == 'write':
        def f(self, pos, value):
            _fit(value, w, 'value')
            self._op(pos, w, value)
    else:
        sign = -1 if k == 'dec' else 1

        def f(self, pos, amount=1):
            _fit(amount, w, 'amount')
            return self._op(pos, w, sign * amount, True)
    try:
        f.__name__ = f.__qualname__ = name  # for help() on CPython; MicroPython cannot set it
    except AttributeError:
        pass
    return f

# The MicroPython port's fast path (fast_methods in docs/ports.md): read8 .. dec64, read, write, wlock and
# unlock in viper, bound on one area. Each makes the checks of core/area.py and hands anything unusual to
# the area's own Python method: a wrong type, a position or value outside, a closed area, a buffer that
# changed size, a lock held, or the mutex busy with another thread's op. That method raises the right
# error, or waits its turn. The byte work is inline, written inline (calling a kernel would cost as much
# as the rest); the same rules: byte by byte (no unaligned words), nothing allocated for small ints, no
# constant of 2**30 or more in viper code (2**31 is b = 1; b <<= 31).
#
# The methods are made once, at import, per width (closures over the width and the Python method to fall
# back to), and bound to one _Fast per area: an area costs one small object, not twenty functions. (A
# closure called with more than five values, its cells and its arguments together, allocates on every
# call, which an interrupt handler must not do: each has at most five.)
import sys

import micropython
from micropython import const

from ..area import SharedArea

# state[1]'s bits, as sync.py sets them
_CLOSED = const(1)
_WLOCKED = const(2)
_READERS = const(4)
_WAKE = const(8)
_QUEUED = const(16)
_MASK = const(0x3FFFFFFF)

# objects the viper code compares with (its own literals are machine words, and int(x) is a cast there)
_type = type
_int = int
_len = len
_bytes = bytes
_BYTES = bytes
_BYTEARRAY = bytearray
_ZERO = 0
# positions and values outside the small ints (and their big-int compares) go to the Python method
_LARGEST = 0x3FFFFFFF if sys.maxsize < 1 << 32 else 0x3FFFFFFFFFFFFFFF
_LEAST = -_LARGEST - 1
try:
    from uctypes import bytes_at as _bytes_at  # bytes copied from an address: one copy, no slice object
    _HAVE_BYTES_AT = 1
except ImportError:
    _HAVE_BYTES_AT = 0


def _reader(w, slow):
    # read8/16/32 (w bytes): the signed integer at pos
    @micropython.viper
    def read(self, pos) -> int:
        lk = self.lock
        if _type(pos) is not _int or pos < _ZERO or pos > _LARGEST or not lk.acquire(0):
            return int(slow(self.area, pos))
        s = ptr32(self.state)
        q = int(pos)
        n = int(w)
        obj = self.obj
        if q > s[2] - n or s[1] & (_CLOSED | _WLOCKED) or (s[3] and int(_len(obj)) != s[2]):
            lk.release()
            return int(slow(self.area, pos))
        p = ptr8(obj)
        if n == 1:
            v = int(p[q])
            v -= (v & 0x80) << 1
        elif n == 2:
            v = int(p[q]) | int(p[q + 1]) << 8
            v -= (v & 0x8000) << 1
        else:
            b = 1
            b <<= 31
            v = int(p[q]) | int(p[q + 1]) << 8 | int(p[q + 2]) << 16 | int(p[q + 3]) << 24
            v = (v ^ b) - b
        lk.release()
        return v
    return read


@micropython.viper
def _read64(self, pos) -> object:
    # read64: the signed 64-bit integer at pos, a small int where it fits
    lk = self.lock
    if _type(pos) is not _int or pos < _ZERO or pos > _LARGEST or not lk.acquire(0):
        return SharedArea.read64(self.area, pos)
    s = ptr32(self.state)
    q = int(pos)
    obj = self.obj
    if q > s[2] - 8 or s[1] & (_CLOSED | _WLOCKED) or (s[3] and int(_len(obj)) != s[2]):
        lk.release()
        return SharedArea.read64(self.area, pos)
    p = ptr8(obj)
    b = 1
    b <<= 31
    lo = int(p[q]) | int(p[q + 1]) << 8 | int(p[q + 2]) << 16 | int(p[q + 3]) << 24
    hi = int(p[q + 4]) | int(p[q + 5]) << 8 | int(p[q + 6]) << 16 | int(p[q + 7]) << 24
    lk.release()
    lo = (lo ^ b) - b
    hi = (hi ^ b) - b
    if hi == lo >> 31:  # fits 32 bits
        return _int(lo)
    return _int64(lo, hi)


def _writer(w, slow):
    # write8/16/32/64 (w bytes): value stored at pos
    @micropython.viper
    def write(self, pos, value):
        lk = self.lock
        if (_type(pos) is not _int or pos < _ZERO or pos > _LARGEST or _type(value) is not _int or value < _LEAST
                or value > _LARGEST or not lk.acquire(0)):
            return slow(self.area, pos, value)
        s = ptr32(self.state)
        q = int(pos)
        n = int(w)
        v = int(value)  # a small int: exact in a machine word
        b = 1
        b <<= 31
        obj = self.obj
        if (q > s[2] - n or s[1] & (_CLOSED | _WLOCKED | _READERS) or (s[3] and int(_len(obj)) != s[2])
                or (n < 4 and (v < -(1 << n * 8 - 1) or v > (1 << n * 8) - 1))
                or (n == 4 and b > 0 and (v < -b or v > b + b - 1))):
            lk.release()
            return slow(self.area, pos, value)
        p = ptr8(obj)
        h = v >> 16 >> 16  # its high 32 bits (of 64), on 32- and 64-bit words alike
        i = 0
        while i < n:
            if i == 4:
                v = h
            p[q + i] = v
            v >>= 8
            i += 1
        s[0] = (s[0] + 1) & _MASK
        if s[1] & _WAKE:
            self.sync.wake()
        lk.release()
        return None
    return write


def _adder(ws, slow):
    # inc/dec of |ws| bytes: amount added (ws > 0) or taken away (ws < 0); the new value, signed
    @micropython.viper
    def add(self, pos, amount) -> object:
        lk = self.lock
        if (_type(pos) is not _int or pos < _ZERO or pos > _LARGEST or _type(amount) is not _int
                or amount < _LEAST or amount > _LARGEST or not lk.acquire(0)):
            return slow(self.area, pos, amount)
        s = ptr32(self.state)
        q = int(pos)
        n = int(ws)
        a = int(amount)  # a small int: exact in a machine word
        c = 0
        if n < 0:  # taking away: adding ~amount + 1
            n = -n
            a = ~a
            c = 1
        b = 1
        b <<= 31
        obj = self.obj
        if (q > s[2] - n or s[1] & (_CLOSED | _WLOCKED | _READERS) or (s[3] and int(_len(obj)) != s[2])
                or (n < 4 and (int(amount) < -(1 << n * 8 - 1) or int(amount) > (1 << n * 8) - 1))
                or (n == 4 and b > 0 and (int(amount) < -b or int(amount) > b + b - 1))):
            lk.release()
            return slow(self.area, pos, amount)
        p = ptr8(obj)
        h = a >> 16 >> 16  # its high 32 bits (of 64), on 32- and 64-bit words alike
        i = 0
        while i < n:
            if i == 4:
                a = h
            c += int(p[q + i]) + (a & 0xFF)
            p[q + i] = c
            c >>= 8
            a >>= 8
            i += 1
        s[0] = (s[0] + 1) & _MASK
        if s[1] & _WAKE:
            self.sync.wake()
        v = int(p[q]) | int(p[q + 1]) << 8 | int(p[q + 2]) << 16 | int(p[q + 3]) << 24
        h = int(p[q + 4]) | int(p[q + 5]) << 8 | int(p[q + 6]) << 16 | int(p[q + 7]) << 24 if n == 8 else 0
        lk.release()
        if n < 4:
            v &= (1 << n * 8) - 1
            return _int(v - ((v & (1 << n * 8 - 1)) << 1))
        v = (v ^ b) - b
        if n == 4:
            return _int(v)
        h = (h ^ b) - b
        if h == v >> 31:
            return _int(v)
        return _int64(v, h)
    return add


def _amount_one(add):
    # viper has no default arguments: this keeps amount=1
    @micropython.native
    def op(self, pos, amount=1):
        return add(self, pos, amount)
    return op


@micropython.viper
def _write(self, pos, data):
    # write(pos, data) for bytes and bytearray data (anything else goes to the area's method)
    lk = self.lock
    t = _type(data)
    if (_type(pos) is not _int or (t is not _BYTES and t is not _BYTEARRAY) or pos < _ZERO or pos > _LARGEST
            or not lk.acquire(0)):
        return SharedArea.write(self.area, pos, data)
    s = ptr32(self.state)
    n = int(_len(data))
    q = int(pos)
    obj = self.obj
    if (q >= s[2] or n > s[2] - q or s[1] & (_CLOSED | _WLOCKED | _READERS)
            or (s[3] and int(_len(obj)) != s[2])):
        lk.release()
        return SharedArea.write(self.area, pos, data)
    p = ptr8(obj)
    d = ptr8(data)
    i = 0
    if (int(p) + q | int(d)) & 3 == 0:  # both word-aligned: a word at a time
        pw = ptr32(int(p) + q)
        dw = ptr32(d)
        while i + 4 <= n:
            pw[i >> 2] = dw[i >> 2]
            i += 4
    while i < n:
        p[q + i] = d[i]
        i += 1
    s[0] = (s[0] + 1) & _MASK
    if s[1] & _WAKE:
        self.sync.wake()
    lk.release()
    return None


@micropython.viper
def _read(self, pos, length) -> object:
    # read(pos, length): the bytes at pos (length 0: to the end)
    lk = self.lock
    if (_type(pos) is not _int or _type(length) is not _int or pos < _ZERO or pos > _LARGEST or length < _ZERO
            or length > _LARGEST or not lk.acquire(0)):
        return SharedArea.read(self.area, pos, length)
    s = ptr32(self.state)
    q = int(pos)
    n = int(length)
    if n == 0:
        n = s[2] - q
    obj = self.obj
    if (q >= s[2] or n > s[2] - q or s[1] & (_CLOSED | _WLOCKED)
            or (s[3] and int(_len(obj)) != s[2])):
        lk.release()
        return SharedArea.read(self.area, pos, length)
    if int(_HAVE_BYTES_AT):
        r = _bytes_at(int(ptr8(obj)) + q, n)
    else:
        r = _bytes(obj[pos:_int(q + n)])
    lk.release()
    return r


@micropython.native
def _read_length_0(self, pos, length=0):
    # viper has no default arguments: this keeps length=0
    return _read(self, pos, length)


@micropython.viper
def _wlock(self) -> object:
    # wlock() where nobody holds a lock: this thread becomes the holder
    lk = self.lock
    if not lk.acquire(0):
        return SharedArea.wlock(self.area)
    s = ptr32(self.state)
    if s[1] & (_CLOSED | _WLOCKED | _READERS) or s[4]:
        lk.release()
        return SharedArea.wlock(self.area)
    s[4] = 1
    ident = self.ident
    if ident:  # with threads: the holder's id, in halves as sync.py keeps it
        i = int(ident())
        s[5] = i
        s[6] = uint(i) >> 16 >> 16
        s[1] |= _WLOCKED
    lk.release()
    return self.held


@micropython.viper
def _unlock(self) -> object:
    # unlock() of this thread's wlock held once
    lk = self.lock
    if not lk.acquire(0):
        return SharedArea.unlock(self.area)
    s = ptr32(self.state)
    ident = self.ident
    if s[1] & _CLOSED or s[4] != 1:
        lk.release()
        return SharedArea.unlock(self.area)
    if ident:
        i = int(ident())
        m = 1
        m = (m << 31) - 1 << 1 | 1  # the low 32 bits
        if (int(s[5]) ^ i) & m or (int(s[6]) ^ int(uint(i) >> 16 >> 16)) & m:
            lk.release()
            return SharedArea.unlock(self.area)  # another thread's wlock
        s[1] &= ~_WLOCKED
        if s[1] & _QUEUED:
            self.sync._let_in()
    s[4] = 0
    lk.release()
    return None


@micropython.viper
def _int64(lo: int, hi: int) -> object:
    # the 64-bit value from its signed 32-bit halves
    b = 1
    b <<= 31
    if b > 0:  # a 64-bit machine word holds any of them
        return _int(hi << 32 | lo & (b + b - 1))
    return _join(lo, hi)


def _join(lo, hi):
    return hi << 32 | lo & 0xFFFFFFFF


class _Fast:
    # one area's fast methods, bound to what they need
    def __init__(self, area):
        mem = area._mem
        self.area = area
        self.sync = mem.sync
        self.lock = getattr(mem.sync, 'mutex', mem.sync)  # ThreadSync's mutex, or IrqSync (interrupts off)
        self.state = mem.sync.state
        self.obj = mem.buf  # ptr8 of it per op: a bytearray that moved is followed, never its old memory
        self.held = area._held  # what wlock() returns
        try:
            from _thread import get_ident
            self.ident = get_ident
        except ImportError:  # (IrqSync: one thread, no holder to record)
            self.ident = None

    read = _read_length_0
    write = _write
    read8 = _reader(1, SharedArea.read8)
    read16 = _reader(2, SharedArea.read16)
    read32 = _reader(4, SharedArea.read32)
    read64 = _read64
    write8 = _writer(1, SharedArea.write8)
    write16 = _writer(2, SharedArea.write16)
    write32 = _writer(4, SharedArea.write32)
    write64 = _writer(8, SharedArea.write64)
    inc8 = _amount_one(_adder(1, SharedArea.inc8))
    inc16 = _amount_one(_adder(2, SharedArea.inc16))
    inc32 = _amount_one(_adder(4, SharedArea.inc32))
    inc64 = _amount_one(_adder(8, SharedArea.inc64))
    dec8 = _amount_one(_adder(-1, SharedArea.dec8))
    dec16 = _amount_one(_adder(-2, SharedArea.dec16))
    dec32 = _amount_one(_adder(-4, SharedArea.dec32))
    dec64 = _amount_one(_adder(-8, SharedArea.dec64))
    wlock = _wlock
    unlock = _unlock


def fast_methods(area):
    # {name: fast method} for one area (made by the core, with its memory and sync)
    f = _Fast(area)
    return {'read': f.read, 'write': f.write, 'read8': f.read8, 'read16': f.read16, 'read32': f.read32,
            'read64': f.read64, 'write8': f.write8, 'write16': f.write16, 'write32': f.write32,
            'write64': f.write64, 'inc8': f.inc8, 'inc16': f.inc16, 'inc32': f.inc32, 'inc64': f.inc64,
            'dec8': f.dec8, 'dec16': f.dec16, 'dec32': f.dec32, 'dec64': f.dec64, 'wlock': f.wlock,
            'unlock': f.unlock}

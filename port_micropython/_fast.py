# The MicroPython port's fast path (fast_methods in docs/ports.md): read8 .. dec64, read and write as viper
# closures bound on one area. Each makes the checks of core/area.py and hands anything unusual to the
# area's own Python method: a wrong type, a position or value outside, a closed area, a buffer that changed
# size, a lock held, or the mutex busy with another thread's op. That method raises the right error, or
# waits its turn. The byte work is inline, as in _viper.py (calling a kernel would cost as much as the rest).
#
# Each closure sees three things, st, obj and k: a closure called with more than five values (its own
# cells and its arguments together) allocates on every call, which an interrupt handler must not do.
#   st: the sync's state, array('i'): update counter, flags, size, 1 if obj's length must be checked
#   obj: the area's buffer (ptr8 of it per op: a bytearray that moved is followed, never its old memory)
#   k: (lock, area, the area's Python method, width, last pos, least and largest value the fast path takes
#      (small ints that fit the width), sign, the sync's wake)
import sys

import micropython
from micropython import const

# state[1]'s bits, as sync.py sets them
_CLOSED = const(1)
_WLOCKED = const(2)
_READERS = const(4)
_WAKE = const(8)
_QUEUED = const(16)
_MASK = const(0x3FFFFFFF)

# k's items
_LOCK = const(0)
_AREA = const(1)
_SLOW = const(2)
_WIDTH = const(3)
_LAST = const(4)
_LEAST = const(5)
_LARGEST = const(6)
_SIGN = const(7)
_WAKE_UP = const(8)  # the sync's wake(), for sleepers and watched flags (called under the lock, as bump() is)
# and for wlock/unlock: (lock, area, the area's Python method, sync, _thread.get_ident, what wlock returns)
_SYNC = const(3)
_IDENT = const(4)
_HELD = const(5)

# objects the viper code compares with (its own literals are machine words, and int(x) is a cast there)
_type = type
_int = int
_len = len
_ZERO = 0
_SMALL = 0x3FFFFFFF if sys.maxsize < 1 << 32 else 0x3FFFFFFFFFFFFFFF  # the largest small int (31 or 63 bits)
_BYTES = bytes
_bytes = bytes
try:
    from uctypes import bytes_at as _bytes_at  # bytes copied from an address
    _HAVE_BYTES_AT = 1
except ImportError:
    _HAVE_BYTES_AT = 0
_BYTEARRAY = bytearray


def fast_methods(area):
    # {name: fast method} for one area (made by the core, with its memory and sync)
    cls = type(area)
    mem = area._mem
    sync = mem.sync
    lock = getattr(sync, 'mutex', sync)  # ThreadSync's mutex, or IrqSync itself (interrupts off)
    st = sync.state
    obj = mem.buf
    try:
        from _thread import get_ident as ident
    except ImportError:  # (IrqSync: one thread)
        ident = None

    def k(w, slow, sign=0):
        # values outside the small ints (and their big-int compares) go to the Python method
        least = max(-(1 << (w * 8 - 1)), -_SMALL - 1)
        largest = min((1 << w * 8) - 1, _SMALL)
        return (lock, area, slow, w, mem.size - w, least, largest, sign, sync.wake)
    return {
        'read': _read(st, obj, k(1, cls.read)), 'write': _write(st, obj, k(1, cls.write)),
        'read8': _reader(st, obj, k(1, cls.read8)), 'read16': _reader(st, obj, k(2, cls.read16)),
        'read32': _reader(st, obj, k(4, cls.read32)), 'read64': _reader64(st, obj, k(8, cls.read64)),
        'write8': _writer(st, obj, k(1, cls.write8)), 'write16': _writer(st, obj, k(2, cls.write16)),
        'write32': _writer(st, obj, k(4, cls.write32)), 'write64': _writer(st, obj, k(8, cls.write64)),
        'inc8': _adder(st, obj, k(1, cls.inc8, 1)), 'inc16': _adder(st, obj, k(2, cls.inc16, 1)),
        'inc32': _adder(st, obj, k(4, cls.inc32, 1)), 'inc64': _adder(st, obj, k(8, cls.inc64, 1)),
        'dec8': _adder(st, obj, k(1, cls.dec8, -1)), 'dec16': _adder(st, obj, k(2, cls.dec16, -1)),
        'dec32': _adder(st, obj, k(4, cls.dec32, -1)), 'dec64': _adder(st, obj, k(8, cls.dec64, -1)),
        'wlock': _wlock(st, (lock, area, cls.wlock, sync, ident, area._held)),
        'unlock': _unlock(st, (lock, area, cls.unlock, sync, ident, None)),
    }


def _reader(st, obj, k):
    # read8/16/32: the signed integer of k's width at pos
    @micropython.viper
    def read(pos) -> int:
        lk = k[_LOCK]
        if _type(pos) is not _int or pos < _ZERO or pos > k[_LAST] or not lk.acquire(0):
            return int(k[_SLOW](k[_AREA], pos))
        s = ptr32(st)
        if s[1] & (_CLOSED | _WLOCKED) or (s[3] and int(_len(obj)) != s[2]):
            lk.release()
            return int(k[_SLOW](k[_AREA], pos))
        p = ptr8(obj)
        q = int(pos)
        w = int(k[_WIDTH])
        if w == 1:
            v = int(p[q])
            v -= (v & 0x80) << 1
        elif w == 2:
            v = int(p[q]) | int(p[q + 1]) << 8
            v -= (v & 0x8000) << 1
        else:
            b = 1 << 31
            v = int(p[q]) | int(p[q + 1]) << 8 | int(p[q + 2]) << 16 | int(p[q + 3]) << 24
            v = (v ^ b) - b
        lk.release()
        return v
    return read


def _reader64(st, obj, k):
    # read64: the signed 64-bit integer at pos, a small int where it fits
    @micropython.viper
    def read64(pos) -> object:
        lk = k[_LOCK]
        if _type(pos) is not _int or pos < _ZERO or pos > k[_LAST] or not lk.acquire(0):
            return k[_SLOW](k[_AREA], pos)
        s = ptr32(st)
        if s[1] & (_CLOSED | _WLOCKED) or (s[3] and int(_len(obj)) != s[2]):
            lk.release()
            return k[_SLOW](k[_AREA], pos)
        p = ptr8(obj)
        q = int(pos)
        b = 1 << 31
        lo = int(p[q]) | int(p[q + 1]) << 8 | int(p[q + 2]) << 16 | int(p[q + 3]) << 24
        hi = int(p[q + 4]) | int(p[q + 5]) << 8 | int(p[q + 6]) << 16 | int(p[q + 7]) << 24
        lk.release()
        lo = (lo ^ b) - b
        hi = (hi ^ b) - b
        if hi == lo >> 31:  # fits 32 bits
            return _int(lo)
        return _int64(lo, hi)
    return read64


def _writer(st, obj, k):
    # write8/16/32/64: value stored at pos in k's width
    @micropython.viper
    def write(pos, value):
        lk = k[_LOCK]
        if (_type(pos) is not _int or pos < _ZERO or pos > k[_LAST] or _type(value) is not _int
                or value < k[_LEAST] or value > k[_LARGEST] or not lk.acquire(0)):
            return k[_SLOW](k[_AREA], pos, value)
        s = ptr32(st)
        if s[1] & (_CLOSED | _WLOCKED | _READERS) or (s[3] and int(_len(obj)) != s[2]):
            lk.release()
            return k[_SLOW](k[_AREA], pos, value)
        p = ptr8(obj)
        q = int(pos)
        w = int(k[_WIDTH])
        v = int(value)  # a small int: exact in a machine word
        h = v >> 16 >> 16  # its high 32 bits (of 64), on 32- and 64-bit words alike
        i = 0
        while i < w:
            if i == 4:
                v = h
            p[q + i] = v
            v >>= 8
            i += 1
        s[0] = (s[0] + 1) & _MASK
        if s[1] & _WAKE:
            k[_WAKE_UP]()
        lk.release()
        return None
    return write


def _adder(st, obj, k):
    # inc/dec in k's width: the amount added (sign 1) or taken away (sign -1); the new value, signed
    @micropython.viper
    def add(pos, amount) -> object:
        lk = k[_LOCK]
        if (_type(pos) is not _int or pos < _ZERO or pos > k[_LAST] or _type(amount) is not _int
                or amount < k[_LEAST] or amount > k[_LARGEST] or not lk.acquire(0)):
            return k[_SLOW](k[_AREA], pos, amount)
        s = ptr32(st)
        if s[1] & (_CLOSED | _WLOCKED | _READERS) or (s[3] and int(_len(obj)) != s[2]):
            lk.release()
            return k[_SLOW](k[_AREA], pos, amount)
        p = ptr8(obj)
        q = int(pos)
        w = int(k[_WIDTH])
        a = int(amount)  # a small int: exact in a machine word
        h = a >> 16 >> 16  # its high 32 bits (of 64), on 32- and 64-bit words alike
        c = 0
        if int(k[_SIGN]) < 0:  # taking away: adding ~amount + 1
            a = ~a
            h = ~h
            c = 1
        i = 0
        while i < w:
            if i == 4:
                a = h
            c += int(p[q + i]) + (a & 0xFF)
            p[q + i] = c
            c >>= 8
            a >>= 8
            i += 1
        s[0] = (s[0] + 1) & _MASK
        if s[1] & _WAKE:
            k[_WAKE_UP]()
        b = 1 << 31
        v = int(p[q]) | int(p[q + 1]) << 8 | int(p[q + 2]) << 16 | int(p[q + 3]) << 24
        h = int(p[q + 4]) | int(p[q + 5]) << 8 | int(p[q + 6]) << 16 | int(p[q + 7]) << 24 if w == 8 else 0
        lk.release()
        if w < 4:
            v &= (1 << w * 8) - 1
            return _int(v - ((v & (1 << w * 8 - 1)) << 1))
        v = (v ^ b) - b
        if w == 4:
            return _int(v)
        h = (h ^ b) - b
        if h == v >> 31:
            return _int(v)
        return _int64(v, h)

    # viper has no default arguments: this keeps amount=1
    @micropython.native
    def op(pos, amount=1):
        return add(pos, amount)
    return op


def _write(st, obj, k):
    # write(pos, data) for bytes and bytearray data (anything else goes to the area's method)
    @micropython.viper
    def write(pos, data):
        lk = k[_LOCK]
        t = _type(data)
        if (_type(pos) is not _int or (t is not _BYTES and t is not _BYTEARRAY) or pos < _ZERO or pos > k[_LAST]
                or not lk.acquire(0)):
            return k[_SLOW](k[_AREA], pos, data)
        s = ptr32(st)
        n = int(_len(data))
        q = int(pos)
        if (q >= s[2] or n > s[2] - q or s[1] & (_CLOSED | _WLOCKED | _READERS)
                or (s[3] and int(_len(obj)) != s[2])):
            lk.release()
            return k[_SLOW](k[_AREA], pos, data)
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
            k[_WAKE_UP]()
        lk.release()
        return None
    return write


def _read(st, obj, k):
    # read(pos, length=0): the checks in viper, the copy made by bytes(); a native wrapper keeps length=0
    @micropython.viper
    def read_(pos, length) -> object:
        lk = k[_LOCK]
        if (_type(pos) is not _int or _type(length) is not _int or pos < _ZERO or pos > k[_LAST] or length < _ZERO
                or not lk.acquire(0)):
            return k[_SLOW](k[_AREA], pos, length)
        s = ptr32(st)
        q = int(pos)
        n = int(length)
        if n == 0:
            n = s[2] - q
        if n > s[2] - q or s[1] & (_CLOSED | _WLOCKED) or (s[3] and int(_len(obj)) != s[2]):
            lk.release()
            return k[_SLOW](k[_AREA], pos, length)
        if int(_HAVE_BYTES_AT):
            r = _bytes_at(int(ptr8(obj)) + q, n)  # one copy, no slice object
        else:
            r = _bytes(obj[pos:_int(q + n)])
        lk.release()
        return r

    @micropython.native
    def read(pos, length=0):
        return read_(pos, length)
    return read


def _wlock(st, k):
    # wlock() where nobody holds a lock: this thread becomes the holder (anything else: the Python method)
    @micropython.viper
    def wlock() -> object:
        lk = k[_LOCK]
        if not lk.acquire(0):
            return k[_SLOW](k[_AREA])
        s = ptr32(st)
        if s[1] & (_CLOSED | _WLOCKED | _READERS) or s[4]:
            lk.release()
            return k[_SLOW](k[_AREA])
        s[4] = 1
        if k[_IDENT]:  # with threads: the holder's id, in halves as sync.py keeps it
            i = int(k[_IDENT]())
            s[5] = i
            s[6] = uint(i) >> 16 >> 16
            s[1] |= _WLOCKED
        lk.release()
        return k[_HELD]
    return wlock


def _unlock(st, k):
    # unlock() of this thread's wlock held once (anything else: the Python method)
    @micropython.viper
    def unlock() -> object:
        lk = k[_LOCK]
        if not lk.acquire(0):
            return k[_SLOW](k[_AREA])
        s = ptr32(st)
        if s[1] & _CLOSED or s[4] != 1:
            lk.release()
            return k[_SLOW](k[_AREA])
        if k[_IDENT]:
            i = int(k[_IDENT]())
            m = (1 << 31) - 1 << 1 | 1  # the low 32 bits
            if (int(s[5]) ^ i) & m or (int(s[6]) ^ int(uint(i) >> 16 >> 16)) & m:
                lk.release()
                return k[_SLOW](k[_AREA])  # another thread's wlock
            s[1] &= ~_WLOCKED
            if s[1] & _QUEUED:
                k[_SYNC]._let_in()
        s[4] = 0
        lk.release()
        return None
    return unlock


@micropython.viper
def _int64(lo: int, hi: int) -> object:
    # the 64-bit value from its signed 32-bit halves
    b = 1 << 31
    if b > 0:  # a 64-bit machine word holds any of them
        return _int(hi << 32 | lo & (b + b - 1))
    return _join(lo, hi)


def _join(lo, hi):
    return hi << 32 | lo & 0xFFFFFFFF

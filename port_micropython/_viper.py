# Integer kernels for the MicroPython port, compiled by the viper emitter: little-endian two's complement
# at any offset of a bytearray-like object. Byte by byte through ptr8 (a Cortex-M0 faults on an unaligned
# word); 8 bytes as two 32-bit halves, so a 32-bit board builds no big int unless the value needs one.
# Plain-Python twins are in _plain.py. No literal or constant expression here is 2**30 or more (2**31 is
# written b = 1; b <<= 31): for a 32-bit board the compiler makes such a constant a big-int object, which
# viper cannot mix with machine words (mpy-cross -march=armv6m says so).
import micropython

_INT = int  # the int type itself: in viper, int(x) is a cast


def _join(lo, hi):
    # the 64-bit value from its signed halves (called where it does not fit a machine word)
    return hi << 32 | lo & 0xFFFFFFFF


@micropython.viper
def get8(b, pos: int) -> int:
    p = ptr8(b)
    v = int(p[pos])
    return v - (v & 0x80) * 2


@micropython.viper
def get16(b, pos: int) -> int:
    p = ptr8(b)
    v = int(p[pos]) | int(p[pos + 1]) << 8
    return v - (v & 0x8000) * 2


@micropython.viper
def get32(b, pos: int) -> int:
    # int on a 64-bit word, or the word's own sign on a 32-bit one: (v ^ s) - s sign-extends either way
    p = ptr8(b)
    v = int(p[pos]) | int(p[pos + 1]) << 8 | int(p[pos + 2]) << 16 | int(p[pos + 3]) << 24
    s = 1
    s <<= 31
    return (v ^ s) - s


@micropython.viper
def get64(b, pos: int) -> object:
    p = ptr8(b)
    s = 1
    s <<= 31
    lo = int(p[pos]) | int(p[pos + 1]) << 8 | int(p[pos + 2]) << 16 | int(p[pos + 3]) << 24
    hi = int(p[pos + 4]) | int(p[pos + 5]) << 8 | int(p[pos + 6]) << 16 | int(p[pos + 7]) << 24
    lo = (lo ^ s) - s
    hi = (hi ^ s) - s
    if hi == lo >> 31:  # fits 32 bits, signed
        return _INT(lo)
    if s > 0:  # a 64-bit word holds any value
        return _INT(hi << 32 | lo & (s + s - 1))
    return _join(lo, hi)


@micropython.viper
def put8(b, pos: int, v: int):
    p = ptr8(b)
    p[pos] = v


@micropython.viper
def put16(b, pos: int, v: int):
    p = ptr8(b)
    p[pos] = v
    p[pos + 1] = v >> 8


@micropython.viper
def put32(b, pos: int, v: int):
    # v: the value truncated to a machine word (viper's int(x) of a big int), whose low 32 bits are right
    p = ptr8(b)
    p[pos] = v
    p[pos + 1] = v >> 8
    p[pos + 2] = v >> 16
    p[pos + 3] = v >> 24


@micropython.viper
def put64(b, pos: int, lo: int, hi: int):
    # lo, hi: the value's low and high 32 bits (any bits above them are ignored)
    p = ptr8(b)
    p[pos] = lo
    p[pos + 1] = lo >> 8
    p[pos + 2] = lo >> 16
    p[pos + 3] = lo >> 24
    p[pos + 4] = hi
    p[pos + 5] = hi >> 8
    p[pos + 6] = hi >> 16
    p[pos + 7] = hi >> 24


@micropython.viper
def add8(b, pos: int, a: int) -> int:
    p = ptr8(b)
    v = (int(p[pos]) + a) & 0xFF
    p[pos] = v
    return v - (v & 0x80) * 2


@micropython.viper
def add16(b, pos: int, a: int) -> int:
    p = ptr8(b)
    v = (int(p[pos]) | int(p[pos + 1]) << 8) + a
    p[pos] = v
    p[pos + 1] = v >> 8
    v &= 0xFFFF
    return v - (v & 0x8000) * 2


@micropython.viper
def add32(b, pos: int, a: int) -> int:
    # byte by byte with a carry: the same on 32- and 64-bit words
    p = ptr8(b)
    c = 0
    i = 0
    while i < 4:
        c += int(p[pos + i]) + (a & 0xFF)
        p[pos + i] = c
        c >>= 8
        a >>= 8
        i += 1
    v = int(p[pos]) | int(p[pos + 1]) << 8 | int(p[pos + 2]) << 16 | int(p[pos + 3]) << 24
    s = 1
    s <<= 31
    return (v ^ s) - s


@micropython.viper
def add64(b, pos: int, lo: int, hi: int) -> object:
    # lo, hi: the amount's low and high 32 bits; returns the new value
    p = ptr8(b)
    c = 0
    i = 0
    while i < 8:
        if i == 4:
            lo = hi
        c += int(p[pos + i]) + (lo & 0xFF)
        p[pos + i] = c
        c >>= 8
        lo >>= 8
        i += 1
    return get64(b, pos)

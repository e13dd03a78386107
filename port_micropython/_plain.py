# The integer kernels of _viper.py in plain Python, for firmware without the viper emitter. Same names and
# arguments; no intermediate value is larger than the result, so small values allocate nothing.


def _get(b, pos, n):
    # the top byte signed, then the others below it: v >> 8k stays as small as v
    v = b[pos + n - 1]
    if v > 127:
        v -= 256
    for i in range(pos + n - 2, pos - 1, -1):
        v = v << 8 | b[i]
    return v


def _put(b, pos, n, v):
    for i in range(pos, pos + n):
        b[i] = v & 255
        v >>= 8


def _add(b, pos, n, a):
    # the new value wraps into n bytes, signed; a wrap past the ends is rare, so its big ints are too
    v = _get(b, pos, n) + a
    if v >> (n * 8 - 1) not in (0, -1):
        v = (v + (1 << n * 8 - 1) & (1 << n * 8) - 1) - (1 << n * 8 - 1)
    _put(b, pos, n, v)
    return v


def get8(b, pos):
    v = b[pos]
    return v - 256 if v > 127 else v


def get16(b, pos):
    return _get(b, pos, 2)


def get32(b, pos):
    return _get(b, pos, 4)


def get64(b, pos):
    return _get(b, pos, 8)


def put8(b, pos, v):
    b[pos] = v & 255


def put16(b, pos, v):
    _put(b, pos, 2, v)


def put32(b, pos, v):
    _put(b, pos, 4, v)


def put64(b, pos, lo, hi):
    # lo, hi: the value's low and high 32 bits (any bits above them are ignored)
    _put(b, pos, 4, lo)
    _put(b, pos + 4, 4, hi)


def add8(b, pos, a):
    return _add(b, pos, 1, a)


def add16(b, pos, a):
    return _add(b, pos, 2, a)


def add32(b, pos, a):
    return _add(b, pos, 4, a)


def add64(b, pos, lo, hi):
    # lo, hi: the amount's low and high 32 bits, or lo the whole amount (then lo >> 32 == hi, and no big
    # int is made for a small one)
    return _add(b, pos, 8, lo if lo >> 32 == hi else (hi << 32) + (lo & 0xFFFFFFFF))

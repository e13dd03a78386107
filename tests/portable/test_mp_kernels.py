# Portable tests: the MicroPython port's integer kernels (viper, and their plain-Python twins) against
# struct, at odd offsets, near 2**31, 2**32 and 2**63, and without allocating for small values.
import sys

from sa_testutil import skip

_F = {1: 'b', 2: 'h', 4: 'i', 8: 'q'}
_EDGES = (0, 1, -1, 127, -128, 128, 255, 256, 1 << 29, (1 << 30) - 1, 1 << 30, -(1 << 30) - 1, (1 << 31) - 1,
          1 << 31, -(1 << 31), (1 << 32) - 1, 1 << 32, -(1 << 32), 1 << 62, (1 << 63) - 1, -(1 << 63),
          (1 << 64) - 1, 0x123456789ABCDEF0, -0x123456789ABCDEF)


def kernels():
    # (name, module) for each kernel set this runtime has
    if sys.implementation.name != 'micropython':
        skip("the MicroPython port's kernels load on MicroPython only")
    from sharedarea.port_micropython import _plain
    out = [('plain', _plain)]
    try:
        from sharedarea.port_micropython import _viper
        out.append(('viper', _viper))
    except (ImportError, SyntaxError):  # no viper emitter in this firmware
        pass
    return out


def wrap(v, n):
    m = 1 << n * 8
    v %= m
    return v - m if v >= m >> 1 else v


def test_kernels_match_struct():
    from struct import pack_into
    for name, k in kernels():
        for n in (1, 2, 4, 8):
            get, put, add = (getattr(k, op + str(n * 8)) for op in ('get', 'put', 'add'))
            vals = [v for v in _EDGES if -(1 << n * 8 - 1) <= v < 1 << n * 8]
            for off in (0, 1, 3):
                for v in vals:
                    b = bytearray(b'\xa5' * 12)
                    put(b, off, v, v >> 32) if n == 8 else put(b, off, v)
                    ref = bytearray(b'\xa5' * 12)
                    pack_into('<' + _F[n], ref, off, wrap(v, n))
                    assert b == ref, (name, 'put', n, off, v)
                    assert get(b, off) == wrap(v, n), (name, 'get', n, off, v)
                    for a in vals:
                        for am in (a, -a):
                            c = bytearray(ref)
                            got = add(c, off, am, am >> 32) if n == 8 else add(c, off, am)
                            assert got == wrap(v + am, n) == get(c, off), (name, 'add', n, off, v, am, got)
                            assert c[:off] == ref[:off] and c[off + n:] == ref[off + n:]


def test_kernels_allocate_nothing_for_small_values():
    ks = kernels()
    import micropython
    for name, k in ks:
        b = bytearray(24)
        micropython.heap_lock()
        try:
            k.put8(b, 1, -3)
            k.put16(b, 3, 300)
            k.put32(b, 5, -70000)
            k.put64(b, 9, 5, 0)
            r = k.get8(b, 1) + k.get16(b, 3) + k.get32(b, 5) + k.get64(b, 9)
            r += k.add8(b, 1, 1) + k.add16(b, 3, -1) + k.add32(b, 5, 9) + k.add64(b, 9, -7, -1)
            k.put64(b, 9, -1, -1)
            r += k.add64(b, 9, 2, 0)
        finally:
            micropython.heap_unlock()
        assert r == -3 + 300 - 70000 + 5 - 2 + 299 - 69991 - 2 + 1, (name, r)

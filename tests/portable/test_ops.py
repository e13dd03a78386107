# Portable tests: every operation of SPEC.md, its result, and its errors (which must change nothing).
import sharedarea
from sharedarea import SharedAreaError
from sa_testutil import need_memoryview, raises, skip

WIDTHS = (8, 16, 32, 64)


def new(size=64):
    return sharedarea.get(sharedarea.add('size=%d' % size))


def ops(a, w):
    return (getattr(a, 'read%d' % w), getattr(a, 'write%d' % w), getattr(a, 'inc%d' % w), getattr(a, 'dec%d' % w))


def unchanged(a, before):
    # the bytes and the counter are as they were, and no lock is left held by this thread
    assert a.read(0) == before[0]
    assert a.updates == before[1]
    raises(SharedAreaError, a.unlock)


def state(a):
    return (a.read(0), a.updates)


def test_read_write_roundtrip():
    a = new(32)
    assert a.write(3, b'hello') is None
    assert a.read(3, 5) == b'hello'
    assert isinstance(a.read(3, 5), bytes)
    assert a.read(30) == bytes(2)  # length 0 reads to the end
    assert len(a.read(0)) == 32
    a.write(31, b'z')
    assert a.read(31, 1) == b'z'
    a.write(0, bytearray(b'ab'))
    a.write(2, b'cd')
    assert a.read(0, 4) == b'abcd'
    a.write(4, 'é')  # str is stored as UTF-8, as uWSGI does
    assert a.read(4, 2) == b'\xc3\xa9'


def test_write_takes_a_memoryview():
    need_memoryview()
    a = new(8)
    a.write(2, memoryview(b'cd'))
    assert a.read(2, 2) == b'cd'


def test_zero_length_write_needs_a_valid_pos():
    a = new(8)
    a.write(7, b'')
    raises(SharedAreaError, a.write, 8, b'')


def test_readfast():
    a = new(16)
    a.write(0, b'0123456789abcdef')
    buf = bytearray(4)
    assert a.readfast(2, buf) == 4
    assert buf == b'2345'
    assert a.readfast(14, buf) == 2  # 0 = as many as fit
    assert buf[:2] == b'ef'
    assert a.readfast(0, buf, 3) == 3
    assert buf[:3] == b'012'
    s = state(a)
    raises(SharedAreaError, a.readfast, 0, buf, 5)  # more than buf holds
    raises(SharedAreaError, a.readfast, 15, buf, 2)  # crosses the end
    raises(SharedAreaError, a.readfast, -1, buf)
    raises(SharedAreaError, a.readfast, 0, buf, -1)
    raises(TypeError, a.readfast, 0, b'immutable', 2)
    unchanged(a, s)


def test_ints_signed_little_endian():
    a = new(32)
    a.write32(1, 0x01020304)  # unaligned on purpose
    assert a.read(1, 4) == b'\x04\x03\x02\x01'
    assert a.read32(1) == 0x01020304
    a.write64(9, -2)
    assert a.read(9, 8) == b'\xfe' + b'\xff' * 7
    assert a.read64(9) == -2
    a.write16(20, 0x1234)
    assert a.read(20, 2) == b'\x34\x12'
    assert a.read8(20) == 0x34


def test_write_accepts_signed_and_unsigned():
    a = new(16)
    a.write8(0, 200)
    assert a.read8(0) == -56
    assert a.read(0, 1) == b'\xc8'
    for w in WIDTHS:
        rd, wr, _, _ = ops(a, w)
        top = (1 << w) - 1
        wr(0, top)
        assert rd(0) == -1
        wr(0, -(1 << (w - 1)))
        assert rd(0) == -(1 << (w - 1))
        wr(0, (1 << (w - 1)) - 1)
        assert rd(0) == (1 << (w - 1)) - 1


def test_inc_dec_return_new_value_and_wrap():
    a = new(16)
    for w in WIDTHS:
        rd, wr, inc, dec = ops(a, w)
        lo, hi = -(1 << (w - 1)), (1 << (w - 1)) - 1
        wr(4, 0)
        assert inc(4) == 1
        assert inc(4, 10) == 11
        assert dec(4) == 10
        assert dec(4, 20) == -10
        assert rd(4) == -10
        wr(4, hi)
        assert inc(4) == lo  # wraps around
        assert dec(4) == hi
        assert inc(4, (1 << w) - 1) == hi - 1  # an unsigned amount that fits is fine
        wr(4, 0)
        assert dec(4, -3) == 3


def test_overflow_changes_nothing():
    a = new(16)
    a.write(0, b'\x11' * 16)
    for w in WIDTHS:
        rd, wr, inc, dec = ops(a, w)
        s = state(a)
        for bad in ((1 << w), -(1 << (w - 1)) - 1, 1 << 70):
            raises(OverflowError, wr, 0, bad)
            raises(OverflowError, inc, 0, bad)
            raises(OverflowError, dec, 0, bad)
        unchanged(a, s)


def test_wrong_types_change_nothing():
    a = new(16)
    s = state(a)
    for w in WIDTHS:
        rd, wr, inc, dec = ops(a, w)
        raises(TypeError, rd, '0')
        raises(TypeError, rd, 1.0)
        raises(TypeError, wr, 0, 1.5)
        raises(TypeError, wr, 0, '1')
        raises(TypeError, wr, '0', 1)
        raises(TypeError, inc, 0, 1.0)
        raises(TypeError, dec, None)
    raises(TypeError, a.read, '0')
    raises(TypeError, a.read, 0, 1.5)
    raises(TypeError, a.write, 0, 5)
    raises(TypeError, a.write, 1.0, b'x')
    raises(TypeError, a.write, 0, None)
    raises(TypeError, a.wait, '1')
    unchanged(a, s)


def test_bounds_errors_name_area_and_range():
    size = 16
    a = new(size)
    a.write(0, b'abcdefghijklmnop')
    s = state(a)
    for w in WIDTHS:
        n = w // 8
        rd, wr, inc, dec = ops(a, w)
        for pos in (-1, -n, size, size + 100, size - n + 1):
            for call in (lambda: rd(pos), lambda: wr(pos, 1), lambda: inc(pos), lambda: dec(pos)):
                e = raises(SharedAreaError, call)
                msg = str(e)
                assert ('sharedarea %d' % a.id) in msg, msg
                assert str(pos) in msg and (str(size) in msg or str(size - 1) in msg), msg
        assert rd(size - n) is not None  # the last position that fits is fine
    for call in (lambda: a.read(-1), lambda: a.read(size), lambda: a.read(10, 7), lambda: a.read(0, -1),
                 lambda: a.read(0, size + 1), lambda: a.write(-1, b'x'), lambda: a.write(size, b'x'),
                 lambda: a.write(10, b'1234567'), lambda: a.write(0, bytes(size + 1))):
        e = raises(SharedAreaError, call)
        assert ('sharedarea %d' % a.id) in str(e)
    unchanged(a, s)


def test_update_counter():
    a = new(16)
    u = a.updates
    a.read(0)
    a.read64(0)
    assert a.updates == u
    a.write(0, b'x')
    a.write8(0, 1)
    a.inc16(0)
    a.dec32(0)
    a.update()
    assert a.updates == u + 5


def test_memoryview_is_the_area():
    a = new(8)
    try:
        memoryview(b'')
    except NameError:  # no memoryview on this port (the micro:bit): the method says what is missing
        assert 'memoryview' in str(raises(SharedAreaError, a.memoryview))
        skip('needs memoryview: this port has none')
    mv = a.memoryview()
    mv[0] = 9
    assert a.read8(0) == 9
    a.write8(1, 5)
    assert mv[1] == 5
    assert len(mv) == 8
    u = a.updates
    a.update()
    assert a.updates == u + 1


def test_function_forms_and_aliases():
    i = sharedarea.add('size=32')
    s = sharedarea
    s.sharedarea_write(i, 0, b'abc')
    assert s.sharedarea_read(i, 0, 3) == b'abc'
    assert s.sharedarea_read(i, 30) == bytes(2)
    buf = bytearray(2)
    assert s.sharedarea_readfast(i, 1, buf) == 2 and buf == b'bc'
    for w in WIDTHS:
        getattr(s, 'sharedarea_write%d' % w)(i, 8, 5)
        assert getattr(s, 'sharedarea_read%d' % w)(i, 8) == 5
        assert getattr(s, 'sharedarea_inc%d' % w)(i, 8) == 6
        assert getattr(s, 'sharedarea_inc%d' % w)(i, 8, 4) == 10
        assert getattr(s, 'sharedarea_dec%d' % w)(i, 8, 3) == 7
        assert getattr(s, 'sharedarea_dec%d' % w)(i, 8) == 6
    s.sharedarea_writebyte(i, 20, 255)
    assert s.sharedarea_readbyte(i, 20) == -1
    s.sharedarea_writelong(i, 16, 41)
    assert s.sharedarea_inclong(i, 16) == 42
    assert s.sharedarea_readlong(i, 16) == 42
    u = s.get(i).updates
    s.sharedarea_update(i)
    assert s.get(i).updates == u + 1
    assert s.sharedarea_wlock(i) is None
    s.sharedarea_write8(i, 0, 1)  # nested inside the holder's own lock
    assert s.sharedarea_unlock(i) is None
    assert s.sharedarea_rlock(i) is None
    s.sharedarea_unlock(i)
    raises(SharedAreaError, s.sharedarea_unlock, i)
    assert s.sharedarea_wait(i, 10, 0.02) is False
    raises(SharedAreaError, s.sharedarea_object, i)
    raises(SharedAreaError, s.sharedarea_read, i, 32)

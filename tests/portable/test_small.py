# Small portable tests, each using one part of the library (sharedarea.load): the ones the 16 KB
# micro:bit can run next to the library, whose heap cannot hold the larger test files' helpers and spec
# strings as well. They run on every other runtime too.
import sharedarea
from sharedarea import SharedAreaError
from sa_testutil import address_of, raises


def area(pages=1):
    return sharedarea.get(sharedarea.add(pages))


def test_small_read_write():
    a = area()
    assert a.size == sharedarea.PAGE_SIZE and a.read(0) == bytes(a.size)
    a.write(3, b'hey')
    assert a.read(3, 3) == b'hey' and a.read(2, 5) == b'\x00hey\x00'
    a.write(a.size - 2, 'é')  # a str goes in as UTF-8
    assert a.read(a.size - 2) == b'\xc3\xa9'


def test_small_buffer_area():
    b = bytearray(8)
    a = sharedarea.get(sharedarea.add(b))
    a.write(6, b'ok')
    assert b[6:] == b'ok' and a.size == 8
    b[0] = 7
    assert a.read(0, 1) == b'\x07'


def test_small_ints_signed_and_wrapping():
    a = area()
    a.write8(0, 255)
    assert a.read8(0) == -1 and a.read16(0) == 255
    assert a.inc8(1, 127) == 127 and a.inc8(1) == -128
    assert a.dec16(2) == -1 and a.read16(2) == -1
    a.write32(4, 0x7fffffff)
    assert a.inc32(4) == -0x80000000
    a.write64(8, -2)
    assert a.inc64(8, 3) == 1 and a.read(8, 8) == b'\x01' + bytes(7)


def test_small_bad_int_changes_nothing():
    a = area()
    raises(OverflowError, a.write8, 0, 256)
    raises(OverflowError, a.inc16, 0, -32769)
    assert a.read(0, 4) == bytes(4)


def test_small_bounds_errors_change_nothing():
    a = area()
    raises(SharedAreaError, a.read, a.size)
    raises(SharedAreaError, a.write, a.size - 1, b'ab')
    raises(SharedAreaError, a.read, -1)
    raises(TypeError, a.read, '0')
    assert a.read(a.size - 1) == b'\x00'


def test_small_locks_nest_and_with():
    a = area()
    a.wlock()
    a.wlock()
    a.write(0, b'x')  # the holder's own ops do not wait for it
    a.unlock()
    a.unlock()
    with a.wlock() as b:
        assert b is a  # the with form gives the area
        a.write(1, b'y')
    assert a.read(0, 2) == b'xy'
    raises(SharedAreaError, a.unlock)  # nothing held any more


def test_small_with_area_closes_it():
    with area() as a:
        a.write(0, b'x')
        n = a.id
    raises(SharedAreaError, a.read, 0)  # closed on exit, as files and mmap are
    raises(SharedAreaError, sharedarea.get, n)


def test_small_rlock_refuses_a_write():
    a = area()
    a.rlock()
    raises(SharedAreaError, a.write, 0, b'x')
    a.unlock()
    a.write(0, b'x')


def test_small_wait_and_updates():
    a = area()
    n = a.updates
    assert a.wait(100, 0.02) is False
    a.update()
    a.write(0, b'x')
    assert a.updates == n + 2


def test_small_spec_strings():
    assert sharedarea.get(sharedarea.add('size=64')).size == 64
    assert sharedarea.get(sharedarea.add('pages=2')).size == 2 * sharedarea.PAGE_SIZE
    for bad in ('size=0', 'pages=1,size=3', 'bogus=1'):
        raises(SharedAreaError, sharedarea.add, bad)


def test_small_uwsgi_names():
    i = sharedarea.add(1)
    sharedarea.sharedarea_write(i, 0, b'ab')
    assert sharedarea.sharedarea_read(i, 0, 2) == b'ab'
    raises(SharedAreaError, sharedarea.sharedarea_read, i + 1, 0)


def test_small_uwsgi_int_names():
    i = sharedarea.add(1)
    sharedarea.sharedarea_write8(i, 1, -2)
    assert sharedarea.sharedarea_readbyte(i, 1) == -2 and sharedarea.sharedarea_inc16(i, 0) == 0xfe01 - 0x10000


def test_small_close():
    i = sharedarea.add(1)
    sharedarea.close(i)
    sharedarea.close(i)  # twice is fine
    raises(SharedAreaError, sharedarea.get, i)


def test_small_ptr_area():
    # an area over fixed-address memory: here a bytearray's, seen both ways (machine.mem8 on the micro:bit)
    b = bytearray(16)
    a = sharedarea.get(sharedarea.add('ptr=%d,size=16' % address_of(b)))
    a.write(2, b'hi')
    assert b[2:4] == b'hi' and a.size == 16
    b[5] = 7
    assert a.read(4, 3) == b'\x00\x07\x00'

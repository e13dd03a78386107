# Portable tests: making areas from every spec form, ids, get/close, and the spec errors.
import sharedarea
from sharedarea import SharedAreaError
from sa_testutil import raises

BAD_SPECS = ('', ',', '4,', 'pages=', 'pages=0', 'size=0', 'size=0x0', 'pages=-1', 'size=-5', 'size=+5',
             'size=abc', 'size=0x', 'size=0xZZ', 'size=1.5', 'size= 10', 'size=1 0', 'bogus=1', 'PAGES=1',
             'pages=1,pages=2', 'pages=1,size=5', 'offset=4', 'pages=1,offset=4', 'fd=3', 'ptr=0x1000',
             'file=/tmp/x,fd=3,size=1', 'pages=1,', '=1', 'size',
             # as uWSGI: hex only with a lowercase 0x, and only for size= and offset=
             'size=0X10', 'pages=0x2', 'fd=0x3,size=16', 'size=12abc', 'size=1e3',
             'size=18446744073709551617', 'size=0x8000000000000000')


def test_pages_digits_and_keyval():
    i = sharedarea.add('4')
    a = sharedarea.get(i)
    assert a.id == i
    assert a.size == 4 * sharedarea.PAGE_SIZE
    assert a.read(0) == bytes(a.size)
    j = sharedarea.add('pages=2')
    assert j == i + 1
    assert sharedarea.get(j).size == 2 * sharedarea.PAGE_SIZE


def test_size_decimal_and_hex():
    assert sharedarea.get(sharedarea.add('size=100')).size == 100
    assert sharedarea.get(sharedarea.add('size=0x1000')).size == 4096
    assert sharedarea.get(sharedarea.add('size=0x10')).size == 16
    assert sharedarea.get(sharedarea.add('size=010')).size == 10  # decimal, as uWSGI: no octal
    p = sharedarea.PAGE_SIZE
    assert sharedarea.get(sharedarea.add('pages=1,size=%d' % p)).size == p


def test_page_size():
    assert isinstance(sharedarea.PAGE_SIZE, int) and sharedarea.PAGE_SIZE > 0


def test_int_spec_is_pages():
    a = sharedarea.get(sharedarea.add(1))
    assert a.size == sharedarea.PAGE_SIZE
    raises(SharedAreaError, sharedarea.add, 0)


def test_ids_are_consecutive():
    ids = [sharedarea.add('size=8') for _ in range(3)]
    assert ids[1] == ids[0] + 1 and ids[2] == ids[1] + 1


def test_bad_specs_rejected_and_use_no_id():
    before = sharedarea.add('size=1')
    for spec in BAD_SPECS:
        e = raises(SharedAreaError, sharedarea.add, spec)
        assert 'spec' in str(e), (spec, str(e))
    assert sharedarea.add('size=1') == before + 1


def test_spec_error_is_a_valueerror():
    assert issubclass(SharedAreaError, ValueError)
    e = raises(ValueError, sharedarea.add, 'pages=1,size=5')
    assert 'disagree' in str(e)
    e = raises(ValueError, sharedarea.add, 'colour=red')
    assert 'colour' in str(e)


def test_buffer_area_and_object():
    b = bytearray(16)
    a = sharedarea.get(sharedarea.add(b))
    assert a.size == 16
    assert a.object() is b
    a.write(2, b'xy')
    assert b[2:4] == b'xy'
    b[0] = 7
    assert a.read8(0) == 7


def test_bad_buffers():
    raises(TypeError, sharedarea.add, b'read-only bytes')
    raises(TypeError, sharedarea.add, 3.5)
    raises(TypeError, sharedarea.add, None)
    raises(SharedAreaError, sharedarea.add, bytearray())


def test_object_of_plain_area_is_an_error():
    a = sharedarea.get(sharedarea.add('size=8'))
    e = raises(SharedAreaError, a.object)
    assert 'sharedarea %d' % a.id in str(e)


def test_get_unknown_and_wrong_type():
    e = raises(SharedAreaError, sharedarea.get, 10 ** 6)
    assert '1000000' in str(e)
    raises(SharedAreaError, sharedarea.get, -1)
    raises(TypeError, sharedarea.get, '0')
    raises(SharedAreaError, sharedarea.sharedarea_read, 10 ** 6, 0)


def test_close_twice_and_use_after_close():
    i = sharedarea.add('size=8')
    a = sharedarea.get(i)
    a.close()
    a.close()
    sharedarea.close(i)
    e = raises(SharedAreaError, sharedarea.get, i)
    assert 'closed' in str(e)
    for call in (lambda: a.read(0), lambda: a.write(0, b'x'), lambda: a.inc64(0), lambda: a.read8(0),
                 lambda: a.wlock(), lambda: a.rlock(), lambda: a.unlock(), lambda: a.wait(timeout=0.01),
                 lambda: a.update(), lambda: a.updates, lambda: a.memoryview(),
                 lambda: sharedarea.sharedarea_write8(i, 0, 1)):
        e = raises(SharedAreaError, call)
        assert 'closed' in str(e)
    raises(SharedAreaError, sharedarea.close, 10 ** 6)
    assert sharedarea.add('size=8') > i


def test_close_by_function():
    i = sharedarea.add('size=8')
    sharedarea.close(i)
    raises(SharedAreaError, sharedarea.sharedarea_read, i, 0)

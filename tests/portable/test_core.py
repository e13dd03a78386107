# Portable regression tests for the plain core: wait(since=), the area as a context manager that closes
# it, the with-forms of the locks, error types and messages, repr, and the uWSGI drop-in's configure().
import sharedarea
from sharedarea import SharedAreaError
from sa_testutil import need_threads, raises, run_threads


def new(size=64):
    return sharedarea.get(sharedarea.add('size=%d' % size))


def test_wait_since_returns_at_once_when_the_counter_moved():
    # the check-then-wait race: an update between reading the counter and calling wait() is not missed
    a = new()
    n = a.updates
    a.inc8(0)  # lands before the wait
    assert a.wait(10, 5, since=n) is True
    assert a.wait(10, 0.05, since=a.updates) is False  # nothing new since: the timeout
    raises(TypeError, a.wait, 10, 1, 'x')


def test_with_area_closes_it_and_with_wlock_unlocks():
    with new() as a:
        with a.wlock() as b:
            assert b is a
            a.write8(0, 1)
        raises(SharedAreaError, a.unlock)  # the with form let go
    raises(SharedAreaError, a.read8, 0)  # closed on exit, as files and mmap are
    a.close()  # twice is fine


def test_write_of_a_non_buffer_says_what_write_takes():
    a = new()
    e = raises(TypeError, a.write, 0, 5)
    assert 'write() takes bytes' in str(e) and 'int' in str(e), str(e)
    assert a.updates == 0


def test_a_write_under_this_threads_rlock_says_upgrading_is_refused():
    a = new()
    a.rlock()
    e = raises(SharedAreaError, a.wlock)
    assert 'upgrading' in str(e), str(e)
    raises(SharedAreaError, a.inc8, 0)
    a.unlock()
    a.inc8(0)
    assert a.read8(0) == 1


def test_errors_name_the_area_and_the_range():
    a = new(16)
    assert 'pos 16 is outside 0..15' in str(raises(SharedAreaError, a.read8, 16))
    assert '8 bytes at pos 12 cross the end (size 16)' in str(raises(SharedAreaError, a.read64, 12))
    assert 'pos must be an int' in str(raises(TypeError, a.read8, 1.0))
    assert 'value 256 does not fit in 8 bits' in str(raises(OverflowError, a.write8, 0, 256))
    assert 'length -1 is negative' in str(raises(SharedAreaError, a.read, 0, -1))
    a.close()
    assert 'sharedarea %d is closed' % a.id in str(raises(SharedAreaError, a.read8, 0))


def test_repr_names_id_size_and_kind():
    a = new(16)
    assert repr(a) == '<SharedArea id=%d size=16 anonymous>' % a.id, repr(a)
    a.close()
    assert repr(a).endswith(' closed>'), repr(a)


def test_bad_specs_are_sharedarea_errors_naming_the_key():
    for spec, word in (('pages=0', 'pages'), ('size=12abc', 'size'), ('bogus=1', 'bogus'), ('size=1,size=2', 'twice'),
                       ('pages=9999999999999999999', 'too big'), ('ptr=0,size=4', 'NULL')):
        e = raises(SharedAreaError, sharedarea.add, spec)
        assert word in str(e) and spec in str(e), str(e)


def test_function_forms_take_the_readme_keywords():
    a = new()
    a.write(0, b'ab')
    assert sharedarea.sharedarea_read(a.id, 0, len=2) == b'ab'
    assert sharedarea.sharedarea_inc64(a.id, 8, amount=3) == 3
    assert sharedarea.sharedarea_wait(a.id, timeout=0.01, since=0) is True
    assert sharedarea.sharedarea_wlock(a.id) is None and sharedarea.sharedarea_unlock(a.id) is None


def test_load_is_a_no_op_for_old_programs():
    sharedarea.load('ints', 'locks')
    assert new().inc8(0) == 1


def test_configure_while_other_threads_use_areas():
    # the drop-in's configure() closes every area and starts ids at 0 again, in one step under the registry
    # lock: ops racing it end with their result or SharedAreaError, never anything else
    need_threads()  # (first: where there are none, as on the micro:bit, there is no drop-in either)
    import sharedarea.uwsgi as uw
    uw.configure(['size=64'])
    state = {'stop': 0}

    def body(i):
        if i == 0:
            for _ in range(30):
                uw.configure(['size=64', 'pages=1'])
            state['stop'] = 1
            return
        while not state['stop']:
            try:
                sharedarea.sharedarea_inc64(0, 0)
                sharedarea.get(0).read(0, 8)
            except SharedAreaError:
                pass
    run_threads(3, body)
    assert sharedarea.get(1).size == sharedarea.PAGE_SIZE
    raises(SharedAreaError, sharedarea.get, 2)

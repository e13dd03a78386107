# One test per row of the "Differences from uWSGI" table (docs/uwsgi.md): what sharedarea does, and, where it is
# safe to run, what real uWSGI 2.0 does with the same call (those parts skip without uWSGI).
import os
import shutil
import subprocess
import sys

import pytest

import sharedarea
import sharedarea.uwsgi as shim
import uwsgi_diff
from sa_calls import dec, enc
from sharedarea import SharedAreaError

P = uwsgi_diff.PAGE


def new(spec='1'):
    return sharedarea.get(sharedarea.add(spec))


def uw(specs, *calls, **kw):
    # outcomes of calls in real uWSGI: ('ok', value) or ('exc', type name); None without uWSGI, so the
    # sharedarea half of each test still runs where uWSGI is missing
    if uwsgi_diff.missing():
        return None
    plan = {'specs': specs, 'steps': [[[c[0], enc(list(c[1:]))]] for c in calls]}
    out = uwsgi_diff.run_uwsgi(plan, str(kw['d']))['steps']
    return [('ok', dec(s[0]['ok'])) if 'ok' in s[0] else ('exc', s[0]['exc']) for s in out]


def same_or_no_uwsgi(got, want):
    assert got is None or got == want, (got, want)


def raises(exc, fn, *args):
    with pytest.raises(exc) as e:
        fn(*args)
    return e.value


def test_inc_and_dec_return_the_new_value(tmp_path):
    a = new()
    assert a.inc32(0, 5) == 5 and a.dec32(0, 7) == -2 and a.inc64(8) == 1 and a.dec64(8, 3) == -2
    assert sharedarea.sharedarea_inclong(a.id, 8) == -1
    same_or_no_uwsgi(uw(['1'], ('sharedarea_inc32', 0, 0, 5), ('sharedarea_read32', 0, 0), d=tmp_path), [
        ('ok', None), ('ok', 5)])


def test_amounts_take_the_unsigned_range_and_wrap(tmp_path):
    a = new()
    assert a.inc32(0, 2 ** 32 - 1) == -1 and a.inc32(0, 2 ** 31) == 2 ** 31 - 1
    assert a.inc64(8, 2 ** 64 - 1) == -1
    raises(OverflowError, a.inc32, 0, 2 ** 32)
    same_or_no_uwsgi(uw(['1'], ('sharedarea_inc32', 0, 0, 2 ** 31), ('sharedarea_dec64', 0, 8, 2 ** 63), d=tmp_path), [
        ('exc', 'OverflowError'), ('exc', 'OverflowError')])


def test_write8_takes_negatives(tmp_path):
    a = new()
    a.write8(0, -56)
    assert a.read(0, 1) == b'\xc8' and a.read8(0) == -56
    raises(OverflowError, a.write8, 0, -129)
    same_or_no_uwsgi(uw(['1'], ('sharedarea_write8', 0, 0, -56), ('sharedarea_write8', 0, 0, 200),
              ('sharedarea_read8', 0, 0), d=tmp_path), [('exc', 'OverflowError'), ('ok', None), ('ok', -56)])


def test_write16_writes_16_bits_into_its_own_area(tmp_path):
    sharedarea.uwsgi.configure(['1', '1'])
    shim.sharedarea_write16(1, 0, 7)
    assert shim.sharedarea_read16(1, 0) == 7 and shim.sharedarea_read16(0, 0) == 0
    shim.sharedarea_write16(1, 2, -1)
    assert shim.sharedarea_read16(1, 2) == -1
    for v in (65536, -32769, 0x10007):
        raises(OverflowError, shim.sharedarea_write16, 1, 4, v)
    assert shim.sharedarea_read(1, 4, 2) == b'\0\0'
    # uWSGI parses 4 bytes into the 2-byte value: its top half lands on the area id
    same_or_no_uwsgi(uw(['1', '1'], ('sharedarea_write16', 1, 0, 7), ('sharedarea_read16', 1, 0), ('sharedarea_read16', 0, 0),
              ('sharedarea_write16', 0, 8, 0x10009), ('sharedarea_read16', 1, 8), ('sharedarea_write16', 0, 2, -1),
              d=tmp_path), [('ok', None), ('ok', 0), ('ok', 7), ('ok', None), ('ok', 9), ('exc', 'ValueError')])


def test_write32_refuses_what_does_not_fit(tmp_path):
    a = new()
    a.write32(0, 0x01020304)
    for v in (2 ** 32, -2 ** 31 - 1, 2 ** 64 + 5):
        raises(OverflowError, a.write32, 0, v)
    assert a.read32(0) == 0x01020304  # unchanged
    same_or_no_uwsgi(uw(['1'], ('sharedarea_write32', 0, 0, 2 ** 32 + 5), ('sharedarea_read32', 0, 0), d=tmp_path), [
        ('ok', None), ('ok', 5)])


def test_write64_takes_the_unsigned_range(tmp_path):
    a = new()
    a.write64(0, 2 ** 64 - 1)
    assert a.read64(0) == -1
    raises(OverflowError, a.write64, 0, 2 ** 64)
    same_or_no_uwsgi(uw(['1'], ('sharedarea_write64', 0, 0, 2 ** 63), d=tmp_path), [('exc', 'OverflowError')])


def test_write_takes_any_bytes_like(tmp_path):
    a = new()
    a.write(0, bytearray(b'ab'))
    a.write(2, memoryview(b'cd'))
    a.write(4, 'é')
    assert a.read(0, 6) == b'abcd\xc3\xa9'
    same_or_no_uwsgi(uw(['1'], ('sharedarea_write', 0, 0, bytearray(b'ab')), ('sharedarea_write', 0, 0, memoryview(b'ab')),
              ('sharedarea_write', 0, 0, 'é'), d=tmp_path), [('exc', 'TypeError'), ('exc', 'TypeError'), ('ok', None)])


def test_inc64_near_the_end_is_refused():
    # uWSGI checks 4 bytes there and then adds to 8: it writes past the area (never sent to uWSGI)
    a = new('size=16')
    for pos in (9, 10, 11, 12):
        raises(SharedAreaError, a.inc64, pos)
        raises(SharedAreaError, a.dec64, pos)
    assert a.read(0) == bytes(16)
    assert a.inc64(8) == 1


def test_object_of_a_plain_area(tmp_path):
    a = new()
    e = raises(SharedAreaError, a.object)
    assert 'buffer' in str(e)
    buf = bytearray(8)
    assert new(buf).object() is buf
    same_or_no_uwsgi(uw(['1'], ('sharedarea_object', 0), d=tmp_path), [('exc', 'SystemError')])


def test_locks_nest_and_refuse_misuse():
    a = new()
    a.wlock()
    a.wlock()
    a.inc32(0)  # an op inside the holder's lock: no deadlock, the lock stays held
    a.unlock()
    a.unlock()
    raises(SharedAreaError, a.unlock)  # nothing held: an error, not undefined behaviour
    a.rlock()
    raises(SharedAreaError, a.write8, 0, 1)  # uWSGI hangs here
    assert a.read32(0) == 1
    a.unlock()


UWSGI_WLOCK = '''
import os, sys, time, uwsgi as u
u.sharedarea_wlock(0)
u.sharedarea_read8(0, 0)   # inside the holder's wlock
pid = os.fork()
if pid == 0:
    u.sharedarea_write8(0, 1, 1)   # needs the write lock
    print('child wrote', flush=True)
    os._exit(0)
time.sleep(1)
print('parent unlocks', flush=True)
u.sharedarea_unlock(0)
os.waitpid(pid, 0)
'''


def test_uwsgi_drops_the_wlock_after_a_call_inside_it(tmp_path):
    # glibc refuses the call's own lock (EDEADLK), uWSGI ignores that and then unlocks: the holder's
    # wlock is gone, so another process writes while the holder still thinks it has the area
    why = uwsgi_diff.missing()
    if why:
        pytest.skip(why)
    script = str(tmp_path / 'w.py')
    with open(script, 'w') as f:
        f.write(UWSGI_WLOCK)
    out = subprocess.run(uwsgi_diff.uwsgi_cmd(['1'], script), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         timeout=30).stdout.decode()
    lines = [x for x in out.splitlines() if x in ('child wrote', 'parent unlocks')]
    assert lines == ['child wrote', 'parent unlocks'], out[-2000:]


def test_wlock_holds_other_processes_off_in_sharedarea():
    a = new()
    r, w = os.pipe()
    a.wlock()
    a.read8(0)
    pid = os.fork()
    if pid == 0:
        a.write8(0, 1)
        os.write(w, b'c')
        os._exit(0)
    os.write(w, b'p')  # the parent's mark goes first: the child's write waits for the unlock
    a.unlock()
    os.waitpid(pid, 0)
    assert os.read(r, 2) == b'pc'
    os.close(r)
    os.close(w)


def test_negative_id_and_length_are_errors():
    # uWSGI segfaults on both (never sent to it)
    a = new()
    raises(SharedAreaError, sharedarea.sharedarea_read8, -1, 0)
    raises(SharedAreaError, sharedarea.sharedarea_read, a.id, 0, -1)


def test_a_bad_id_is_reported_first(tmp_path):
    e = raises(SharedAreaError, shim.sharedarea_write8, 10 ** 6, 0, 1.5)
    assert '1000000' in str(e)
    same_or_no_uwsgi(uw(['1'], ('sharedarea_write8', 9, 0, 1.5), d=tmp_path), [('exc', 'TypeError')])


def test_errors_say_what_and_where(tmp_path):
    a = new('size=16')
    e = raises(SharedAreaError, a.read32, 14)
    assert 'sharedarea %d' % a.id in str(e) and '14' in str(e) and '16' in str(e)
    assert isinstance(e, ValueError)
    same_or_no_uwsgi(uw(['1'], ('sharedarea_read32', 0, P - 2), d=tmp_path), [('exc', 'ValueError')])


def test_names_uwsgi_lacks():
    a = new()
    assert a.inc8(0, 200) == -56 and a.inc16(2) == 1 and a.dec8(4) == -1 and a.dec16(6, 2) == -2
    n = a.updates
    a.update()
    assert a.updates == n + 1
    assert a.wait(timeout=0.01) is False
    buf = bytearray(4)
    assert a.readfast(0, buf) == 4
    for name in ('wait', 'update', 'inc8', 'inc16', 'dec8', 'dec16', 'readfast'):
        assert callable(getattr(sharedarea, 'sharedarea_' + name))


def test_size_is_exact_not_whole_pages():
    # uWSGI gives an anonymous size=100 area a whole page (test_uwsgi_specs checks it against uWSGI)
    assert new('size=100').size == 100
    raises(SharedAreaError, new('size=100').read8, 100)


def test_ptr_maps_that_memory():
    # uWSGI parses ptr= and ignores it (the area is fresh memory); ours is the memory at that address
    import ctypes
    buf = ctypes.create_string_buffer(b'at this address', 32)
    a = new('ptr=0x%x,size=32' % ctypes.addressof(buf))
    assert a.read(0, 15) == b'at this address'
    a.write(0, b'AT')
    assert buf.raw[:7] == b'AT this'


def test_file_specs_uwsgi_refuses(tmp_path):
    # file= created when missing, size from the file, pages= as the size, any offset (SPEC.md)
    f = str(tmp_path / 'new.bin')
    g = str(tmp_path / 'page.bin')
    with open(g, 'wb') as fh:
        fh.write(bytes(P))
    areas = [new('file=%s,size=64' % f)]
    assert os.path.getsize(f) == 64
    areas[0].write(0, bytes(range(64)))
    areas += [new('file=%s' % f), new('file=%s,size=8,offset=5' % f), new('file=%s,pages=1' % g)]
    assert [a.size for a in areas] == [64, 64, 8, P]
    assert areas[2].read(0, 3) == bytes([5, 6, 7])
    for a in areas:
        a.close()
    for p in (f, g):
        st = os.stat(p)
        assert not os.path.exists('/dev/shm/sharedarea-%x-%x' % (st.st_dev, st.st_ino))  # removed by the last close


def test_env_var_configures_the_drop_in(tmp_path):
    # UWSGI_SHAREDAREA, read by uWSGI itself for one --sharedarea value, configures area 0 here too
    code = ('import sharedarea.uwsgi as u; u.install(); import uwsgi; uwsgi.sharedarea_write(0, 99, b"x"); '
            'print(len(uwsgi.sharedarea_read(0, 0)), uwsgi.sharedarea_read(0, 99, 1))')
    out = subprocess.run([sys.executable, '-c', code], env=dict(os.environ, UWSGI_SHAREDAREA='size=0x64'),
                         stdout=subprocess.PIPE, check=True, timeout=60).stdout
    assert out.split() == [b'100', b"b'x'"]


def test_install_inside_uwsgi_keeps_the_real_module(tmp_path):
    why = uwsgi_diff.missing()
    if why:
        pytest.skip(why)
    # sharedarea is not installed in uWSGI's own Python: lay the package out in tmp_path for it
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    shutil.copytree(os.path.join(root, 'core'), str(tmp_path / 'sharedarea'))
    shutil.copytree(os.path.join(root, 'port_cpython'), str(tmp_path / 'sharedarea' / 'port_cpython'))
    script = str(tmp_path / 'i.py')
    with open(script, 'w') as f:
        f.write('import sys\nsys.path.insert(0, %r)\nimport sharedarea.uwsgi, uwsgi\n'
                'print("same" if sharedarea.uwsgi.install() is uwsgi and not hasattr(uwsgi, "__file__") '
                'else "replaced")\n' % str(tmp_path))
    out = subprocess.run(uwsgi_diff.uwsgi_cmd(['1'], script), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         timeout=30).stdout.decode()
    assert '\nsame\n' in out, out[-2000:]

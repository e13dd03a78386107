# CPython-only tests: file=, fd= and offset= areas shared between unrelated processes (started with
# subprocess, never fork): same bytes, atomic ops, locks, wait(), dead holders, and every bad input.
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

import sharedarea
from sharedarea import SharedAreaError
from sharedarea import port_cpython

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fileworker.py')


@pytest.fixture
def tmp():
    d = tempfile.mkdtemp(prefix='sharedarea-test-')
    made = []
    yield d, made
    for p in made:  # the companions of the files this test mapped
        c = port_cpython.companion(p)
        if c and os.path.exists(c):
            os.unlink(c)
    shutil.rmtree(d, ignore_errors=True)


def path_in(tmp, name, size=None, data=None):
    d, made = tmp
    p = os.path.join(d, name)
    if data is not None or size is not None:
        with open(p, 'wb') as f:
            f.write(data if data is not None else bytes(size))
    made.append(p)
    return p


def area(spec):
    return sharedarea.get(sharedarea.add(spec))


def spawn(spec, *args, **kw):
    return subprocess.Popen([sys.executable, WORKER, spec] + [str(a) for a in args], stdout=subprocess.PIPE,
                            stdin=subprocess.PIPE, text=True, **kw)


def test_new_file_is_made_0600_at_exactly_size(tmp):
    p = path_in(tmp, 'new')
    a = area('file=%s,size=1000' % p)
    st = os.stat(p)
    assert st.st_size == 1000 and st.st_mode & 0o777 == 0o600
    assert a.size == 1000


def test_area_bytes_are_the_file_bytes(tmp):
    p = path_in(tmp, 'data', data=b'x' * 4096)
    a = area('file=%s' % p)  # size defaults to the file's length
    assert a.size == 4096 and a.read(0, 3) == b'xxx'
    a.write(10, b'hello')
    a.write64(100, -2)
    with open(p, 'rb') as f:
        raw = f.read()
    assert raw[10:15] == b'hello' and raw[100:108] == b'\xfe' + b'\xff' * 7
    assert len(raw) == 4096  # no header, no growth
    with open(p, 'r+b') as f:  # and what others write to the file, the area shows
        f.seek(200)
        f.write(b'dd')
        f.flush()
    assert a.read(200, 2) == b'dd'


def test_unaligned_offset_exposes_only_the_asked_bytes(tmp):
    p = path_in(tmp, 'off', data=bytes(range(256)) * 40)
    for off in (3, 4096, 5000):
        a = area('file=%s,offset=%d,size=16' % (p, off))
        assert a.size == 16
        assert a.read(0) == (bytes(range(256)) * 40)[off:off + 16]
        a.write8(0, 0x7F)
        with open(p, 'rb') as f:
            f.seek(off)
            assert f.read(1) == b'\x7f'
        with pytest.raises(SharedAreaError):
            a.read(16)


def test_offset_size_defaults_to_the_rest(tmp):
    p = path_in(tmp, 'rest', size=100)
    assert area('file=%s,offset=30' % p).size == 70


def test_fd_area_over_a_memfd():
    fd = os.memfd_create('sa-test')
    os.ftruncate(fd, 8192)
    try:
        a = area('fd=%d,size=8192' % fd)
        b = area('fd=%d,size=100,offset=4097' % fd)
        a.write(4097, b'shared')
        assert b.read(0, 6) == b'shared'
        b.inc16(10)
        assert a.read16(4107) == 1
        assert os.pread(fd, 6, 4097) == b'shared'
        c = port_cpython.companion(fd)
        a.close()
        assert os.path.exists(c)  # b still uses it
        b.close()
        assert not os.path.exists(c)
    finally:
        os.close(fd)


def test_character_device_is_mapped_as_is():
    a = area('file=/dev/zero,size=4096')
    assert a.read(0, 8) == bytes(8)
    a.write(0, b'abc')
    assert a.read(0, 3) == b'abc'
    with pytest.raises(SharedAreaError, match='size'):
        sharedarea.add('file=/dev/zero')
    c = port_cpython.companion('/dev/zero')
    assert os.path.exists(c)
    a.close()
    assert not os.path.exists(c)  # the last user removes the companion


def test_two_processes_same_bytes(tmp):
    p = path_in(tmp, 'two', size=4096)
    a = area('file=%s' % p)
    w = spawn('file=%s' % p, 'write', 'fromkid', 0)
    assert w.wait(30) == 0
    assert a.read(0, 7) == b'fromkid'


@pytest.mark.parametrize('nproc', [2, 4])
def test_mixed_ops_exact_and_untorn(tmp, nproc):
    p = path_in(tmp, 'mixed%d' % nproc, size=4096)
    a = area('file=%s' % p)
    n = 50000 if nproc == 4 else 20000
    ps = [spawn('file=%s' % p, 'mixed', n, k) for k in range(nproc)]
    outs = [q.communicate(timeout=600)[0] for q in ps]
    assert [q.returncode for q in ps] == [0] * nproc
    assert all('torn 0' in o for o in outs), outs
    assert a.read64(0) == nproc * n
    assert a.read32(8) == -2 * nproc * n


def test_wlock_in_one_process_blocks_writes_of_another(tmp):
    p = path_in(tmp, 'lock', size=4096)
    holder = spawn('file=%s' % p, 'hold', 'wlock')
    assert holder.stdout.readline().strip() == 'ready'
    other = spawn('file=%s' % p, 'try-write')
    assert other.stdout.readline().strip() == 'trying'
    time.sleep(0.3)
    assert other.poll() is None  # still waiting for the lock
    with open(p, 'rb') as f:  # read the file itself: the area would wait for the lock
        assert f.read()[100] == 0
    a = area('file=%s' % p)
    holder.stdin.write('go\n')
    holder.stdin.flush()
    assert holder.wait(30) == 0
    out = other.communicate(timeout=30)[0]
    assert other.returncode == 0 and out.split() == ['wrote', '1']  # after the holder's last write
    assert a.read8(100) == 5 and a.read8(200) == 1


def test_wlock_excludes_this_process_too(tmp):
    p = path_in(tmp, 'lock2', size=4096)
    a = area('file=%s' % p)
    a.wlock()
    other = spawn('file=%s' % p, 'try-write')
    assert other.stdout.readline().strip() == 'trying'
    time.sleep(0.3)
    assert other.poll() is None
    a.unlock()
    assert other.wait(30) == 0 and a.read8(100) == 5


def test_waiter_wakes_on_another_process_write(tmp):
    p = path_in(tmp, 'wait', size=4096)
    waiter = spawn('file=%s' % p, 'wait', 1000, 20)
    assert waiter.stdout.readline().strip() == 'waiting'
    time.sleep(0.2)
    t0 = time.monotonic()
    a = area('file=%s' % p)
    a.write(0, b'ping')
    out = waiter.communicate(timeout=30)[0]
    assert time.monotonic() - t0 < 0.9  # freq is 1 s: it was woken, not polling
    assert out.split() == ['woke', 'True', 'ping']


def test_waiter_times_out_false(tmp):
    p = path_in(tmp, 'wait2', size=64)
    area('file=%s' % p)
    waiter = spawn('file=%s' % p, 'wait', 50, 0.3)
    out = waiter.communicate(timeout=30)[0]
    assert out.split()[-2:] == ['woke', 'False'] or out.split()[1:3] == ['woke', 'False']


@pytest.mark.parametrize('where', ['wlock', 'ops'])
def test_sigkill_of_a_holder_does_not_block(tmp, where):
    p = path_in(tmp, 'kill-' + where, size=4096)
    a = area('file=%s' % p)
    for _ in range(3 if where == 'ops' else 1):
        k = spawn('file=%s' % p, 'hold', where)
        assert k.stdout.readline().strip() == 'ready'
        time.sleep(0.05)
        os.kill(k.pid, signal.SIGKILL)
        k.wait(10)
        t0 = time.monotonic()
        a.wlock()
        v = a.inc64(0)
        a.unlock()
        assert time.monotonic() - t0 < 1.0
        assert a.read64(0) == v
        a.write(16, b'ok')  # the area is still usable
        assert a.read(16, 2) == b'ok'
        k.stdout.close()
        k.stdin.close()


def test_stale_companion_is_harmless(tmp):
    p = path_in(tmp, 'stale', size=64)
    c = port_cpython.companion(p)
    fd = os.open(c, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # as a crash might leave it: junk state
    os.write(fd, b'\xff' * 9 + b'junk' * 1021 + b'\xff' * 3)
    os.close(fd)
    a = area('file=%s' % p)
    u = a.updates
    a.inc8(0)
    assert a.updates == (u + 1) % (1 << 64)
    assert a.wait(10, 0.05) is False
    with a.wlock():
        a.write8(1, 1)


def test_companion_not_made_by_us_is_refused_untouched(tmp):
    p = path_in(tmp, 'odd', size=64)
    c = port_cpython.companion(p)
    fd = os.open(c, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)  # readable by all: they could hold its locks
    os.write(fd, b'x' * 100)
    os.close(fd)
    with pytest.raises(SharedAreaError) as e:
        sharedarea.add('file=%s' % p)
    assert c in str(e.value) and p in str(e.value) and 'owner' in str(e.value) and 'rm ' in str(e.value)
    assert open(c, 'rb').read() == b'x' * 100


# bad input: a clear error naming the path; nothing created or changed

def test_missing_directory(tmp):
    d, made = tmp
    p = os.path.join(d, 'no', 'such', 'dir', 'f')
    with pytest.raises(FileNotFoundError) as e:
        sharedarea.add('file=%s,size=10' % p)
    assert p in str(e.value)
    assert not os.path.exists(os.path.join(d, 'no'))


def test_missing_file_without_size(tmp):
    p = path_in(tmp, 'absent')
    with pytest.raises(SharedAreaError, match='absent'):
        sharedarea.add('file=%s' % p)
    assert not os.path.exists(p)


def test_permission_denied(tmp):
    p = path_in(tmp, 'secret', size=64)
    os.chmod(p, 0o600)
    os.chmod(tmp[0], 0o755)
    code = ('import sharedarea, sys\n'
            'try:\n    sharedarea.add(%r)\nexcept PermissionError as e:\n    print("denied", e.filename)\n'
            % ('file=%s' % p))
    cmd, kw = [sys.executable, '-c', code], {}
    if os.geteuid() == 0:
        # root opens everything: ask as nobody, with an interpreter and a copy of the package nobody can read
        py = shutil.which('python3', path='/usr/bin:/bin')
        if not py:
            pytest.skip('needs a system python3 that user nobody can run, to test a permission error as root')
        lib = os.path.join(tmp[0], 'lib')
        shutil.copytree(os.path.dirname(sharedarea.__file__), os.path.join(lib, 'sharedarea'))
        shutil.copytree(os.path.dirname(port_cpython.__file__), os.path.join(lib, 'sharedarea', 'port_cpython'),
                        dirs_exist_ok=True)
        for root, dirs, files in os.walk(lib):
            os.chmod(root, 0o755)
        cmd[0] = py
        kw = dict(user=65534, env={'PYTHONPATH': lib}, cwd='/')
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, **kw)
    assert out.stdout.split() == ['denied', p], out.stderr
    with open(p, 'rb') as f:
        assert f.read() == bytes(64)


def test_directory_instead_of_file(tmp):
    d, _ = tmp
    with pytest.raises(IsADirectoryError) as e:
        sharedarea.add('file=%s,size=10' % d)
    assert d in str(e.value)


def test_short_file_is_an_error_and_untouched(tmp):
    p = path_in(tmp, 'short', data=b'abc')
    with pytest.raises(SharedAreaError, match='short') as e:
        sharedarea.add('file=%s,size=4096' % p)
    assert p in str(e.value)
    with pytest.raises(SharedAreaError):
        sharedarea.add('file=%s,offset=2,size=2' % p)
    assert open(p, 'rb').read() == b'abc'


def test_size_zero_and_offset_past_the_end(tmp):
    p = path_in(tmp, 'f', size=10)
    with pytest.raises(SharedAreaError):
        sharedarea.add('file=%s,size=0' % p)
    with pytest.raises(SharedAreaError, match='offset'):
        sharedarea.add('file=%s,offset=10' % p)
    with pytest.raises(SharedAreaError):
        sharedarea.add('file=%s,offset=50,size=1' % p)
    empty = path_in(tmp, 'empty', data=b'')
    with pytest.raises(SharedAreaError):
        sharedarea.add('file=%s' % empty)
    assert os.path.getsize(p) == 10 and os.path.getsize(empty) == 0


def test_fd_closed_and_fd_pipe():
    r, w = os.pipe()
    os.close(w)
    with pytest.raises(OSError) as e:
        sharedarea.add('fd=%d,size=10' % w)
    assert 'fd=%d' % w in str(e.value)
    with pytest.raises(SharedAreaError, match='fd=%d' % r):
        sharedarea.add('fd=%d,size=10' % r)
    os.close(r)


def test_failed_add_uses_no_id(tmp):
    i = sharedarea.add('size=1')
    with pytest.raises(SharedAreaError):
        sharedarea.add('file=%s' % path_in(tmp, 'nothing'))
    assert sharedarea.add('size=1') == i + 1


def test_close_while_holding_wlock_frees_the_file_for_others(tmp):
    p = path_in(tmp, 'closeheld', size=4096)
    a = area('file=%s' % p)
    b = area('file=%s' % p)  # the same file twice in one process shares one lock
    a.wlock()
    a.close()
    b.write8(0, 1)  # would wait forever if a's hold had stayed
    other = spawn('file=%s' % p, 'try-write')
    assert other.wait(30) == 0
    assert b.read8(100) == 5


def test_last_user_removes_the_companion_and_a_newcomer_makes_a_new_one(tmp):
    p = path_in(tmp, 'comp', size=4096)
    a = area('file=%s' % p)
    c = port_cpython.companion(p)
    holder = spawn('file=%s' % p, 'hold', 'wlock')
    assert holder.stdout.readline().strip() == 'ready'
    a.close()
    assert os.path.exists(c)  # the other process still uses it
    other = spawn('file=%s' % p, 'try-write')
    assert other.stdout.readline().strip() == 'trying'
    time.sleep(0.2)
    assert other.poll() is None  # it joined the same companion, so the holder's lock holds it off
    holder.stdin.write('go\n')
    holder.stdin.flush()
    assert holder.wait(30) == 0 and other.wait(30) == 0
    assert not os.path.exists(c)  # the last of them removed it
    b = area('file=%s' % p)
    assert os.path.exists(c) and b.read8(100) == 5
    b.close()
    assert not os.path.exists(c)

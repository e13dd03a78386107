# The security tests' helper (tests/cpython/test_security.py): `case NAME` runs one case of issue 17 as root
# inside a private /dev/shm (the test starts it under `unshare -m` with a fresh tmpfs there), attacking
# with user nobody and a second unprivileged uid; `job ...` is what those users run. Exit 0 = the case held.
import errno
import fcntl
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

HERE = os.path.abspath(__file__)
PURE = os.environ.get('SHAREDAREA_PURE', '') not in ('', '0')
NOBODY, NOGROUP, OTHER = 65534, 65534, 1234  # OTHER: a uid with no name, in group nogroup for the group case


# ---------------------------------------------------------------- jobs, run as any user

def job(kind, *args):
    import sharedarea
    if kind == 'add':  # try to add; say what happened
        try:
            a = sharedarea.get(sharedarea.add(args[0]))
            print('ok', a.size, a.read64(0), flush=True)
        except Exception as e:
            print('error %s: %s' % (type(e).__name__, e), flush=True)
    elif kind == 'inc':  # wait for the go file, add, inc64 n times
        spec, n, go = args[0], int(args[1]), args[2]
        while go != '-' and not os.path.exists(go):
            time.sleep(0.001)
        a = sharedarea.get(sharedarea.add(spec))
        for _ in range(n):
            a.inc64(0)
        a.close()
        print('done', flush=True)
    elif kind == 'race':  # round after round: say so, wait for go, add the new file, inc64 n times
        prefix, rounds, n = args[0], int(args[1]), int(args[2])
        for r in range(rounds):
            print('wait', r, flush=True)
            give_up = time.monotonic() + 120  # (the test failed or died: never spin on for ever)
            while not os.path.exists('%s-go%d' % (prefix, r)):
                if time.monotonic() > give_up:
                    sys.exit('race: no go file for round %d in 120 s' % r)  # spin: all eight add() at the same moment
            try:
                a = sharedarea.get(sharedarea.add('file=%s%d,size=4096' % (prefix, r)))
            except Exception as e:
                print('error %s: %s' % (type(e).__name__, e), flush=True)
                continue
            for _ in range(n):
                a.inc64(0)
            a.close()
            print('done', r, flush=True)
    elif kind == 'hold':  # add, hold wlock until killed
        a = sharedarea.get(sharedarea.add(args[0]))
        a.wlock()
        print('ready', flush=True)
        time.sleep(3600)
    elif kind == 'squat':  # plant a file at a companion's name and keep scribbling on it
        fd = os.open(args[0], os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
        os.fchmod(fd, int(args[1], 8))
        os.write(fd, b'\xff' * 4096)
        print('ready', flush=True)
        while int(args[1], 8):
            os.pwrite(fd, os.urandom(64), 0)
            time.sleep(0.0005)
        time.sleep(3600)
    elif kind == 'lockcomp':  # a read-only user's attack: read locks on the companion
        try:
            fd = os.open(args[0], os.O_RDONLY)
        except OSError as e:
            print('denied', errno.errorcode[e.errno], flush=True)
            return
        fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB, 0, 0)
        print('locked', flush=True)
        time.sleep(3600)


# ---------------------------------------------------------------- the root side

def lib_for_others():
    # a copy of the package that other users can import (the checkout may sit under /root)
    import sharedarea
    from sharedarea import port_cpython
    lib = tempfile.mkdtemp(prefix='sa-sec-lib-')
    shutil.copytree(os.path.dirname(sharedarea.__file__), os.path.join(lib, 'sharedarea'),
                    ignore=shutil.ignore_patterns('__pycache__'))
    shutil.copytree(os.path.dirname(port_cpython.__file__), os.path.join(lib, 'sharedarea', 'port_cpython'),
                    dirs_exist_ok=True, ignore=shutil.ignore_patterns('__pycache__', '*.c'))
    for root, dirs, files in os.walk(lib):
        os.chmod(root, 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)
    shutil.copy(HERE, os.path.join(lib, 'secworker.py'))
    os.chmod(os.path.join(lib, 'secworker.py'), 0o644)
    return lib


LIB = None


def as_user(uid, *args, gid=None, groups=None, umask=0o022):
    # run `secworker.py job ...` as uid: runuser for nobody, setpriv for a uid without a name
    env = ['env', '-i', 'PYTHONPATH=' + LIB, 'SHAREDAREA_PURE=' + ('1' if PURE else '0'), 'PATH=/usr/bin:/bin']
    py = [os.environ['SA_OTHERS_PY'], '-c', 'import os, sys; os.umask(%d); sys.path.insert(0, %r); '
          'import secworker; secworker.job(*sys.argv[1:])' % (umask, LIB)]
    if uid == NOBODY and gid is None and groups is None:
        cmd = ['runuser', '-u', 'nobody', '--'] + env + py + list(args)
    else:
        cmd = (['setpriv', '--reuid=%d' % uid, '--regid=%d' % (gid if gid is not None else uid),
                '--groups=' + ','.join(map(str, groups or [gid if gid is not None else uid])), '--']
               + env + py + list(args))
    cmd = [str(x) for x in cmd]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            text=True, cwd='/', start_new_session=True)  # (runuser forks: kill the group)


def as_root(*args):
    env = dict(os.environ, PYTHONPATH=LIB)
    return subprocess.Popen([sys.executable, HERE, "job"] + [str(x) for x in args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)


def out_of(p, timeout=60):
    o, e = p.communicate(timeout=timeout)
    assert p.returncode == 0, 'rc %s, stderr %s' % (p.returncode, e[-2000:])
    return o.strip()


def ready(p):
    line = p.stdout.readline().strip()
    assert line == 'ready', (line, p.stderr.read() if p.poll() is not None else '')


def kill(p):
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    p.communicate()


stop = kill


def companion_of(path):
    from sharedarea import port_cpython
    return port_cpython.companion(path)


def secret_file():
    # a root-only file outside /dev/shm that an attack would like us to write
    d = tempfile.mkdtemp(prefix='sa-sec-secret-')
    os.chmod(d, 0o755)  # nobody may name it (to link to it), not read or write it
    p = os.path.join(d, 'secret')
    with open(p, 'wb') as f:
        f.write(b'root only! ' * 10)
    os.chmod(p, 0o600)
    return p, open(p, 'rb').read()


def make_data(path, size=4096, mode=0o600, uid=0, gid=0):
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    os.posix_fallocate(fd, 0, size)
    os.fchown(fd, uid, gid)
    os.fchmod(fd, mode)
    os.close(fd)


def add(spec):
    import sharedarea
    return sharedarea.get(sharedarea.add(spec))


def refused(spec, *words):
    from sharedarea import SharedAreaError
    try:
        add(spec)
    except SharedAreaError as e:
        for w in words:
            assert w in str(e), (w, str(e))
        return str(e)
    raise AssertionError('%s was not refused' % spec)


# ---------------------------------------------------------------- the cases (issue 17, 1-9)

def case_clobber():
    # 1: nobody plants the companion's name as a symlink to a root-only file
    secret, before = secret_file()
    data = '/dev/shm/data'
    make_data(data)
    c = companion_of(data)
    p = as_user(NOBODY, 'add', 'size=1')  # (warm-up: nobody can run python here)
    out_of(p)
    subprocess.run(['runuser', '-u', 'nobody', '--', 'ln', '-s', secret, c], check=True)
    refused('file=' + data, c, 'symbolic link', 'nobody', 'rm ' + c)
    assert open(secret, 'rb').read() == before and os.stat(secret).st_size == len(before)
    assert os.path.islink(c)  # not removed, not followed


def case_squat():
    # 2 (and 7's mode-000 squat): another user's file at the companion's name is refused, never used
    data = '/dev/shm/data'
    make_data(data)
    c = companion_of(data)
    for mode in ('0666', '0000'):
        sq = as_user(NOBODY, 'squat', c, mode)
        ready(sq)
        t0 = time.monotonic()
        refused('file=' + data, c, 'owned by uid 65534 (nobody)', 'rm ' + c)
        assert time.monotonic() - t0 < 5
        stop(sq)
        os.unlink(c)
    # a non-root owner (OTHER) against a mode-000 squat: the same message, not a hang or a bare EACCES
    mine = '/dev/shm/other-data'
    make_data(mine, uid=OTHER, gid=OTHER)
    c = companion_of(mine)
    sq = as_user(NOBODY, 'squat', c, '0000')
    ready(sq)
    o = out_of(as_user(OTHER, 'add', 'file=' + mine))
    assert o.startswith('error SharedAreaError') and c in o and 'nobody' in o and 'rm ' in o, o
    stop(sq)


def case_readonly():
    # 3: a user who may only read the data file cannot open the companion, so cannot block writers
    data = '/dev/shm/ro'
    make_data(data, mode=0o644)
    a = add('file=' + data)
    c = companion_of(data)
    assert stat.S_IMODE(os.stat(c).st_mode) == 0o600
    assert out_of(as_user(NOBODY, 'lockcomp', c)) == 'denied EACCES'
    o = out_of(as_user(NOBODY, 'add', 'file=' + data))
    assert o.startswith('error PermissionError') and 'read and write' in o, o
    with open(data, 'rb') as f:  # nobody may read the bytes themselves (0644): we do not take that away
        assert len(f.read()) == 4096
    ws = [as_root('inc', 'file=' + data, 2000, '-') for _ in range(2)]
    for w in ws:
        assert out_of(w, 60) == 'done'
    assert a.read64(0) == 4000
    a.close()
    assert not os.path.exists(c)


def fill(path):
    # fill the private /dev/shm to the last byte
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    for chunk in (1 << 16, 4096, 1):
        try:
            while True:
                os.write(fd, bytes(chunk))
        except OSError as e:
            assert e.errno == errno.ENOSPC
    os.close(fd)


def case_full():
    # 4: a full /dev/shm is a SharedAreaError at add(), for the data file and for the companion, not SIGBUS
    make_data('/dev/shm/existing')
    fill('/dev/shm/filler')
    for spec in ('file=/dev/shm/new,size=100000', 'file=/dev/shm/existing'):
        p = as_root('add', spec)
        o = out_of(p)
        assert o.startswith('error SharedAreaError') and 'full' in o, o
    assert not os.path.exists('/dev/shm/new')
    assert [n for n in os.listdir('/dev/shm') if n.startswith('.sharedarea')] == []


def case_datapath():
    # 5: another user's file (or symlink) in /dev/shm is refused by default; shared=group opts in
    secret, before = secret_file()
    o = out_of(as_user(NOBODY, 'add', 'file=/dev/shm/sensors,size=4096'))  # nobody makes it first
    assert o.startswith('ok'), o
    os.chmod('/dev/shm/sensors', 0o600)  # (made 0600: as its owner would leave it)
    refused('file=/dev/shm/sensors', '/dev/shm/sensors', 'owned by uid 65534 (nobody)', 'shared=group')
    refused('file=/dev/shm/sensors,shared=group', 'g+rw')
    o = out_of(as_user(NOBODY, 'add', 'file=/dev/shm/shared,size=4096,shared=group'))
    assert o.startswith('ok'), o
    assert stat.S_IMODE(os.stat('/dev/shm/shared').st_mode) == 0o660
    refused('file=/dev/shm/shared', 'shared=group')
    a = add('file=/dev/shm/shared,shared=group')
    a.inc64(0)
    a.close()
    subprocess.run(['runuser', '-u', 'nobody', '--', 'ln', '-s', secret, '/dev/shm/link'], check=True)
    for spec in ('file=/dev/shm/link', 'file=/dev/shm/link,size=4096', 'file=/dev/shm/link,shared=group'):
        refused(spec, '/dev/shm/link', 'symbolic link', secret)
    assert open(secret, 'rb').read() == before


def case_race():
    # 6: 8 programs start at once on the same missing file, round after round: all get in (none sees it
    # half-made or fails on O_EXCL), and the total is exact
    n, rounds = 200, 25
    ps = [as_root('race', '/dev/shm/race', rounds, n) for _ in range(8)]
    try:
        for r in range(rounds):
            assert [p.stdout.readline().split() for p in ps] == [['wait', str(r)]] * 8
            open('/dev/shm/race-go%d' % r, 'w').close()
            outs = [p.stdout.readline().strip() for p in ps]
            assert outs == ['done %d' % r] * 8, (r, outs)
            a = add('file=/dev/shm/race%d' % r)
            assert a.read64(0) == 8 * n, (r, a.read64(0))
            a.close()
        assert [out_of(p) for p in ps] == [''] * 8
    finally:
        for p in ps:
            if p.poll() is None:
                p.kill()  # (the creators spin: none may outlive a failed round)


def case_group():
    # 7: a 0660 file shared by a group works at umask 022, and a companion left by another uid's killed
    # process does not lock the file's owner out
    spec = 'file=/dev/shm/g,size=4096,shared=group'
    other = dict(gid=NOGROUP, groups=[NOGROUP])  # OTHER's primary group is nogroup, as nobody's is
    o = out_of(as_user(OTHER, 'add', spec, **other))
    assert o.startswith('ok'), o
    st = os.stat('/dev/shm/g')
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (OTHER, NOGROUP, 0o660)
    ps = [as_user(OTHER, 'inc', spec, 2000, '-', **other), as_user(NOBODY, 'inc', spec, 2000, '-')]
    assert [out_of(p, 120) for p in ps] == ['done', 'done']
    c = companion_of('/dev/shm/g')
    if os.path.exists(c):
        os.unlink(c)  # left when its last user was not its maker (sticky /dev/shm): harmless, reused
    # nobody (a member of the group, not the owner) makes the companion and dies holding wlock
    h = as_user(NOBODY, 'hold', spec)
    ready(h)
    cst = os.stat(c)
    assert (cst.st_uid, cst.st_gid, stat.S_IMODE(cst.st_mode)) == (NOBODY, NOGROUP, 0o660)
    kill(h)
    time.sleep(0.2)
    t0 = time.monotonic()
    o = out_of(as_user(OTHER, 'add', spec, **other))
    assert o == 'ok 4096 4000', o
    o = out_of(as_user(OTHER, 'inc', spec, 10, '-', **other))
    assert o == 'done' and time.monotonic() - t0 < 10


def case_deleted():
    # 8: the companion removed while in use (systemd's RemoveIPC): the next lock wait says so
    data = '/dev/shm/del'
    make_data(data)
    a = add('file=' + data)
    h = as_root('hold', 'file=' + data)
    ready(h)
    os.unlink(companion_of(data))
    from sharedarea import SharedAreaError
    t0 = time.monotonic()
    try:
        a.write8(0, 1)
    except SharedAreaError as e:
        assert 'removed' in str(e) and 'RemoveIPC' in str(e), str(e)
    else:
        raise AssertionError('a write on a removed companion went on')
    assert time.monotonic() - t0 < 5
    stop(h)


def case_truncated():
    # 9: truncation from outside: our memfds are sealed against it; a regular file cannot be, as documented
    a = add('size=4096')
    fd = a._sync.fd
    seals = fcntl.fcntl(fd, fcntl.F_GET_SEALS)
    assert seals & fcntl.F_SEAL_SHRINK, seals
    try:
        os.ftruncate(fd, 0)
    except PermissionError:
        pass
    else:
        raise AssertionError('a sealed memfd was shrunk')
    a.write64(0, 7)  # (the area, one memfd with its lock page, works sealed)
    assert a.read64(0) == 7
    make_data('/dev/shm/t')
    code = ('import os, sharedarea; a = sharedarea.get(sharedarea.add("file=/dev/shm/t")); '
            'os.truncate("/dev/shm/t", 0); a.read8(100)')
    r = subprocess.run([sys.executable, '-c', code], env=dict(os.environ, PYTHONPATH=LIB), capture_output=True)
    assert r.returncode == -signal.SIGBUS, (r.returncode, r.stderr[-500:])


def main(case):
    global LIB
    assert os.path.ismount('/dev/shm') and len(os.listdir('/dev/shm')) == 0, 'not a fresh private /dev/shm'
    LIB = lib_for_others()
    try:
        globals()['case_' + case]()
    finally:
        shutil.rmtree(LIB, ignore_errors=True)
    print('PASS', case)


if __name__ == '__main__':
    if sys.argv[1] == 'job':
        job(*sys.argv[2:])
    else:
        main(sys.argv[2])

# CPython-only tests of the port's edges: the function form while its area is replaced, fds and mappings
# after close, add() racing add() and fork(), and the errors of specs the machine cannot map. Both paths
# (make test-pure runs this file with SHAREDAREA_PURE=1).
import errno
import os
import subprocess
import sys
import textwrap
import threading

import pytest

import sharedarea
from sharedarea import SharedAreaError
from sa_proc import join

PURE = os.environ.get('SHAREDAREA_PURE', '') not in ('', '0')


def new(spec='pages=1'):
    return sharedarea.get(sharedarea.add(spec))


def run(code, timeout=60):
    # code in a fresh interpreter (same SHAREDAREA_PURE); its exit code and output
    r = subprocess.run([sys.executable, '-c', textwrap.dedent(code)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=timeout)
    return r.returncode, r.stdout.decode(errors='replace')


# -- fault 1: the compiled function form sleeping on the lock while configure() replaces its area -----

def test_function_form_survives_configure_and_gc_while_it_waits():
    code, out = run('''
        import gc, threading, time
        import sharedarea, sharedarea.uwsgi as u
        u.configure(['pages=1'])
        sharedarea.get(0).wlock()
        got = []
        def sleeper():
            try:
                got.append(sharedarea.sharedarea_inc64(0, 0))
            except sharedarea.SharedAreaError as e:
                got.append('closed')
        t = threading.Thread(target=sleeper)
        t.start()
        time.sleep(0.3)  # the sleeper waits for the lock, without the GIL
        u.configure(['pages=1'])  # closes area 0 (its lock goes too) and makes a new area 0
        gc.collect()
        t.join(10)
        gc.collect()
        print(got, sharedarea.sharedarea_inc64(0, 0, 5), sharedarea.sharedarea_read64(0, 0))
    ''')
    assert code == 0, (code, out)
    assert out.split() == ["['closed']", '5', '5'], out


# -- fault 6: a closed area keeps no fd and no mapping ------------------------------------------------

def test_add_and_close_ten_thousand_times_under_a_low_fd_limit(tmp_path):
    code, out = run('''
        import os, resource, sys
        import sharedarea
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
        def fds():
            return len(os.listdir('/proc/self/fd'))
        def maps():
            with open('/proc/self/maps') as f:
                return len(f.read().splitlines())
        path = sys.argv[1]
        for spec, n in (('pages=1', 10000), ('size=100', 2000), ('file=%s,size=4096' % path, 2000)):
            sharedarea.close(sharedarea.add(spec))
            f0, m0 = fds(), maps()
            for i in range(n):
                a = sharedarea.get(sharedarea.add(spec))
                a.inc64(0)
                a.close()
            print(spec.split('=')[0], fds() - f0, maps() - m0 < 20)  # a few for the heap of the records
    '''.replace("sys.argv[1]", repr(str(tmp_path / 'area'))))
    assert code == 0, out
    assert out.split() == ['pages', '0', 'True', 'size', '0', 'True', 'file', '0', 'True'], out


# -- fault 9: two threads add() the same file at once ----------------------------------------------------

def test_two_threads_adding_one_file_share_one_companion(tmp_path):
    for k in range(30):
        path = str(tmp_path / ('area%d' % k))
        with open(path, 'wb') as f:
            f.write(bytes(64))
        go = threading.Barrier(2)
        got = []

        def adder():
            go.wait()
            got.append(new('file=%s' % path))
        ts = [threading.Thread(target=adder) for _ in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(30)
        a, b = got
        assert a._sync is b._sync, 'round %d: two companion handles for one file' % k
        a.close()
        b.close()


# -- fault 11: fork() while another thread is inside add() ----------------------------------------------

def test_fork_while_another_thread_holds_the_registry():
    inside, leave = threading.Event(), threading.Event()

    def in_add():
        with sharedarea._registry:  # where add() is when it registers
            inside.set()
            leave.wait(30)
    t = threading.Thread(target=in_add)
    t.start()
    inside.wait(10)
    try:
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                new().inc64(0)
                code = 0
            finally:
                os._exit(code)
        assert join(pid, 20) == 0
    finally:
        leave.set()
        t.join()


# -- fault 13: errors that say what and where ---------------------------------------------------------------

def test_sizes_too_big_for_memory_are_refused_naming_the_spec(tmp_path):
    for spec in ('size=0xfffffffffffffff', 'pages=999999999999999999', 'size=999999999999999999', 2 ** 40,
                 10 ** 30, 10 ** 50000):
        with pytest.raises(SharedAreaError) as e:
            sharedarea.add(spec)
        assert 'size=' in str(e.value) or 'pages' in str(e.value), str(e.value)
        assert len(str(e.value)) < 300
    path = str(tmp_path / 'big')
    with pytest.raises(SharedAreaError) as e:
        sharedarea.add('file=%s,size=0xfffffffffffffff' % path)
    assert path in str(e.value)
    assert not os.path.exists(path)  # the file it made is gone again


def test_a_size_of_five_million_digits_is_a_short_spec_error():
    for spec in ('size=' + '9' * 5000000, '9' * 5000000, 'size=0x' + 'f' * 5000000):
        with pytest.raises(SharedAreaError) as e:
            sharedarea.add(spec)
        assert 'too big' in str(e.value) and len(str(e.value)) < 300, str(e.value)[:300]


def test_fd_open_read_only_says_it_needs_o_rdwr(tmp_path):
    path = str(tmp_path / 'area')
    with open(path, 'wb') as f:
        f.write(bytes(4096))
    for flags in (os.O_RDONLY, os.O_WRONLY):
        fd = os.open(path, flags)
        try:
            with pytest.raises(SharedAreaError) as e:
                sharedarea.add('fd=%d,size=4096' % fd)
            assert 'fd=%d' % fd in str(e.value) and 'O_RDWR' in str(e.value), str(e.value)
        finally:
            os.close(fd)


def built():
    r = subprocess.run([sys.executable, '-c', 'import sharedarea.port_cpython as p; print(p.FAST)'],
                       env=dict(os.environ, SHAREDAREA_PURE='0'), stdout=subprocess.PIPE)
    return r.stdout.strip() == b'True'


def test_mixing_the_two_paths_names_the_users_file(tmp_path):
    if not built():
        pytest.skip('the compiled fast path is not built here, so there is no other path to mix with')
    path = str(tmp_path / 'area')
    a = new('file=%s,size=64' % path)
    code = 'import sharedarea\ntry:\n    sharedarea.add(%r)\nexcept sharedarea.SharedAreaError as e:\n    print(e)\n' % (
        'file=' + path)
    r = subprocess.run([sys.executable, '-c', code], env=dict(os.environ, SHAREDAREA_PURE='0' if PURE else '1'),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    out = r.stdout.decode()
    assert out.startswith(path + ' is in use') and 'sharedarea-' not in out, out
    a.close()


# -- fault 8: close() racing ops in other threads ------------------------------------------------------------

def _racer(a, op, errors, go):
    # op in a loop until the area is closed: SharedAreaError is the one way out
    buf = bytearray(16)
    go.wait()
    calls = {
        'read': lambda: a.read(0, 64),
        'write': lambda: a.write(8, b'x' * 32),
        'inc64': lambda: a.inc64(16),
        'read8': lambda: a.read8(3),
        'readfast': lambda: a.readfast(0, buf),
        'wait': lambda: a.wait(1, 0.01),
        'update': lambda: a.update(),
        'updates': lambda: a.updates,
        'function': lambda: sharedarea.sharedarea_inc64(a.id, 24),
        'memoryview': lambda: a.memoryview().release(),
        'wlock': lambda: (a.wlock(), a.inc8(0), a.unlock()),
        'rlock': lambda: (a.rlock(), a.read(0, 8), a.unlock()),
    }
    f = calls[op]
    try:
        while True:
            f()
    except SharedAreaError:
        pass
    except BaseException as e:
        errors.append('%s: %s: %s' % (op, type(e).__name__, e))


def test_close_racing_ops_in_other_threads_ends_them_with_sharedareaerror(tmp_path):
    ops = ('read', 'write', 'inc64', 'read8', 'readfast', 'wait', 'update', 'updates', 'function', 'memoryview',
           'wlock', 'rlock')
    errors = []
    for k in range(12):
        spec = 'file=%s,size=4096' % (tmp_path / ('area%d' % k)) if k % 3 == 2 else 'pages=1'
        a = new(spec)
        go = threading.Event()
        ts = [threading.Thread(target=_racer, args=(a, op, errors, go)) for op in ops]
        for t in ts:
            t.start()  # (each start waits for its thread to run: all of them first, then go)
        go.set()
        threading.Event().wait(0.02 + 0.01 * (k % 4))
        a.close()
        for t in ts:
            t.join(20)
        assert not [t for t in ts if t.is_alive()], 'round %d: an op hung after close()' % k
        assert not errors, 'round %d: %s' % (k, errors)
    # the fds of the closed areas are not reused by a stray unlock: a new area on a reused fd still excludes
    a = new()
    a.wlock()
    a.unlock()

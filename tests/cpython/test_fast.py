# CPython-only tests of the locking protocols: the compiled fast path and the pure-Python fallback run
# this file alike (make test runs the suite twice); the two must never share an area unknowingly.
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import sharedarea
import sharedarea.port_cpython as port
from sa_proc import fork, kill_holder

PURE = os.environ.get('SHAREDAREA_PURE', '') not in ('', '0')


def new(spec='pages=1'):
    return sharedarea.get(sharedarea.add(spec))


def built():
    # is the extension there at all (whatever SHAREDAREA_PURE says)?
    r = subprocess.run([sys.executable, '-c', 'import sharedarea.port_cpython as p; print(p.FAST)'],
                       env=dict(os.environ, SHAREDAREA_PURE='0'), stdout=subprocess.PIPE)
    return r.stdout.strip() == b'True'


def test_fast_path_is_used_unless_turned_off():
    a = new()
    if PURE:
        assert not port.FAST
        assert 'builtin' not in repr(a.inc64)
        return
    if not port.FAST:
        pytest.skip('the compiled fast path is not built here (no C compiler or Python headers at install)')
    assert 'built-in method inc64' in repr(a.inc64)
    assert a.inc64(0, 2) == 2 and a.read64(0) == 2


def test_compiled_methods_belong_to_the_areas_own_class():
    # CPython 3.11+ specialises `a.inc64(p)` into its fast C call only when the method's descriptor names
    # a's exact class; inherited from the compiled base, the written-out call cost ~1.4x a pre-bound one
    if not port.FAST:
        pytest.skip('the compiled fast path is not built here or SHAREDAREA_PURE is set')
    a = new()
    for name in ('read', 'write', 'read8', 'inc64', 'dec32', 'write16', 'rlock', 'wlock', 'unlock'):
        assert type(a).__dict__[name].__objclass__ is type(a), name
    assert type(a).inc64.__doc__ and 'amount' in type(a).inc64.__doc__  # the core's docstring, still
    a.close()


def test_other_protocol_on_the_same_file_is_refused(tmp_path):
    if not built():
        pytest.skip('the compiled fast path is not built here, so there is no other protocol to meet')
    path = str(tmp_path / 'area')
    a = new('file=%s,size=64' % path)
    a.write8(0, 5)
    other = '0' if PURE else '1'
    code = textwrap.dedent('''
        import sharedarea, sys
        try:
            a = sharedarea.get(sharedarea.add('file=%s'))
        except sharedarea.SharedAreaError as e:
            print('refused:', e)
            sys.exit(0)
        print('opened', a.read8(0))
    ''' % path)
    env = dict(os.environ, SHAREDAREA_PURE=other)
    r = subprocess.run([sys.executable, '-c', code], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60)
    out = r.stdout.decode()
    assert out.startswith('refused:') and 'SHAREDAREA_PURE' in out, out
    assert a.read8(0) == 5
    # the same protocol is welcome
    r = subprocess.run([sys.executable, '-c', code], env=dict(os.environ, SHAREDAREA_PURE='1' if PURE else '0'),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    assert r.stdout.decode().strip() == 'opened 5', r.stdout
    # once nobody has it open, the other protocol may take it over
    a.close()
    r = subprocess.run([sys.executable, '-c', code], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60)
    assert r.stdout.decode().strip() == 'opened 5', r.stdout


def kill_and_lock(a, body, rounds):
    # start a child looping over body, SIGKILL it at some moment (often inside the lock), then lock
    for i in range(rounds):
        pid = fork(lambda: body(a))
        time.sleep(0.01 + 0.003 * i)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        t0 = time.monotonic()
        with a.wlock():
            a.inc64(32)
        assert time.monotonic() - t0 < 1.0, 'round %d: the next locker waited %.2f s' % (i, time.monotonic() - t0)
        v = a.read64(0)
        a.write64(0, v)  # and plain ops go on too


def test_process_killed_mid_op_does_not_block():
    a = new()

    def incs(a):
        while True:
            a.inc64(0)
            a.read(0, 64)
    kill_and_lock(a, incs, 8)
    assert a.read64(32) == 8


def test_process_killed_holding_rlock_does_not_block():
    a = new()
    kill_holder(a.rlock)
    t0 = time.monotonic()
    a.write8(0, 1)
    assert time.monotonic() - t0 < 1.0


def test_readers_in_two_processes_and_a_writer_stay_consistent():
    # a writer flips 64 bytes between all-A and all-B; readers in another process never see a mix
    a = new()
    a.write(0, b'A' * 64)

    def reader():
        for _ in range(3000):
            d = a.read(0, 64)
            assert d in (b'A' * 64, b'B' * 64), d
    pids = [fork(reader) for _ in range(2)]
    for i in range(3000):
        a.write(0, (b'B' if i % 2 else b'A') * 64)
    for pid in pids:
        assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0


def test_close_while_a_thread_waits_for_the_lock():
    # the compiled path keeps a pointer into the mapping while it waits: closing must not pull it away
    if not port.FAST:
        pytest.skip('checks the compiled fast path, which is not in use')
    a = new('size=64')
    a.wlock()
    got = []

    def blocked():
        try:
            a.inc64(0)
            got.append('ran')
        except ValueError as e:  # SharedAreaError or a released buffer: an error, never a crash
            got.append(e)
    t = threading.Thread(target=blocked)
    t.start()
    time.sleep(0.1)
    assert not got
    a.close()
    t.join(10)
    assert got and got[0] != 'ran', got


def test_many_threads_and_nesting_agree():
    a = new()

    def body(k):
        for _ in range(300):
            with a.wlock():
                v = a.read64(0)
                a.rlock()  # nested inside wlock
                a.unlock()
                a.write64(0, v + 1)
            a.rlock()
            a.read64(0)
            a.unlock()
    ts = [threading.Thread(target=body, args=(k,)) for k in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert a.read64(0) == 1200


def test_holder_killed_before_its_parent_reaps_it():
    # the parent waits for the lock while its dead child is still a zombie
    a = new()
    pid = kill_holder(a.wlock, reap=False)
    time.sleep(0.05)
    t0 = time.monotonic()
    a.inc64(0)
    assert time.monotonic() - t0 < 1.0
    os.waitpid(pid, 0)

# CPython-only tests of the lock protocol at its edges (issue 13): locks that survive another open of the
# companion, liveness across pid namespaces and pid reuse, close() with holders and waiters, wake-ups,
# signals. Each runs on the path in use (compiled, or SHAREDAREA_PURE=1).
import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

import sharedarea
from sharedarea import port_cpython

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lockworker.py')


@pytest.fixture
def tmp():
    d = tempfile.mkdtemp(prefix='sharedarea-lock-')
    yield d
    for name in os.listdir(d):
        c = port_cpython.companion(os.path.join(d, name))
        if c and os.path.exists(c):
            os.unlink(c)
    shutil.rmtree(d, ignore_errors=True)


def make_file(d, name='f', size=4096):
    p = os.path.join(d, name)
    with open(p, 'wb') as f:
        f.write(bytes(size))
    return p


def area(spec):
    return sharedarea.get(sharedarea.add(spec))


def spawn(spec, *args, cmd=None):
    argv = (cmd or []) + [sys.executable, WORKER, spec] + [str(a) for a in args]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True)


def blocked(proc, secs=0.5):
    # True when proc is still running after secs (it waits for a lock)
    try:
        proc.wait(secs)
    except subprocess.TimeoutExpired:
        return True
    return False


def finish(proc, timeout=30):
    try:
        out, _ = proc.communicate('\n', timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError('worker did not finish')
    return proc.returncode, out


# -- fault 3: another open and close of the companion drops no lock --------------------------------

def test_opening_and_closing_the_companion_keeps_the_lock(tmp):
    p = make_file(tmp)
    a = area('file=%s' % p)
    a.wlock()
    try:
        c = port_cpython.companion(p)
        os.close(os.open(c, os.O_RDONLY))  # a diagnostic read (the CLI): it must not drop this process's locks
        toucher = spawn('file=%s' % p, 'touch')  # a user that comes and goes must not think it was the last
        assert finish(toucher)[0] == 0
        assert os.path.exists(c)
        other = spawn('file=%s' % p, 'try-write')
        assert other.stdout.readline().strip() == 'trying'
        assert blocked(other), 'another process wrote while this one held wlock'
    finally:
        a.unlock()
    assert finish(other)[0] == 0
    assert a.read8(100) == 5
    a.close()

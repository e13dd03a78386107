# Data-level interop: real uWSGI and a sharedarea process map the same file (file=...) and see each
# other's bytes and integers, one after the other and while both run. Locks are not shared with uWSGI.
import os
import subprocess
import time

import pytest

import sharedarea
import uwsgi_diff
from sa_calls import dec

P = uwsgi_diff.PAGE


@pytest.fixture
def shared_file(tmp_path):
    why = uwsgi_diff.missing()
    if why:
        pytest.skip(why)
    path = str(tmp_path / 'area.bin')
    with open(path, 'wb') as f:
        f.write(bytes(2 * P))
    yield path
    st = os.stat(path)
    try:
        os.unlink('/dev/shm/sharedarea-%x-%x' % (st.st_dev, st.st_ino))
    except OSError:
        pass


def steps(*calls):
    return [[[name, list(args)]] for name, *args in calls]


def test_each_sees_the_others_writes(shared_file, tmp_path):
    a = sharedarea.get(sharedarea.add('file=%s,size=%d' % (shared_file, P)))
    a.write(0, b'from sharedarea')
    a.write64(16, -2)
    a.write32(24, 0xDEADBEEF)
    a.write8(28, 200)  # stored as the byte 0xC8: uWSGI's read8 gives -56
    a.inc16(30, 300)
    plan = {'specs': ['file=%s,size=%d' % (shared_file, P)], 'steps': steps(
        ('sharedarea_read', 0, 0, 15), ('sharedarea_read64', 0, 16), ('sharedarea_read32', 0, 24),
        ('sharedarea_read8', 0, 28), ('sharedarea_read16', 0, 30),
        ('sharedarea_write', 0, 100, {'b': b'from uwsgi'.hex()}), ('sharedarea_write64', 0, 112, 2 ** 62 + 5),
        ('sharedarea_inc32', 0, 24, 1), ('sharedarea_dec64', 0, 16, 40), ('sharedarea_write16', 0, P - 2, 0xBEEF))}
    r = [dec(s[0]['ok']) for s in uwsgi_diff.run_uwsgi(plan, str(tmp_path))['steps']]
    assert r[:5] == [b'from sharedarea', -2, -0x21524111, -56, 300]
    # uWSGI's writes, seen through the mapping this process kept open all along
    assert a.read(100, 10) == b'from uwsgi'
    assert a.read64(112) == 2 ** 62 + 5
    assert a.read32(24) == -0x21524110
    assert a.read64(16) == -42
    assert a.read16(P - 2) == 0xBEEF - 0x10000
    a.close()


def test_offset_maps_the_same_bytes(shared_file, tmp_path):
    # uWSGI needs a page-aligned offset; ours takes any: byte 0 of ours is byte 4 of uWSGI's second page
    a = sharedarea.get(sharedarea.add('file=%s,size=16,offset=%d' % (shared_file, P + 4)))
    a.write(0, b'xyz')
    plan = {'specs': ['file=%s,size=0x%x,offset=0x%x' % (shared_file, P, P)], 'steps': steps(
        ('sharedarea_read', 0, 4, 3), ('sharedarea_write', 0, 8, {'b': b'uw'.hex()}))}
    r = uwsgi_diff.run_uwsgi(plan, str(tmp_path))['steps']
    assert dec(r[0][0]['ok']) == b'xyz'
    assert a.read(4, 2) == b'uw'
    a.close()


LIVE = '''
import time, uwsgi
uwsgi.sharedarea_write8(0, 202, 1)  # ready
end = time.time() + 30
while uwsgi.sharedarea_read8(0, 200) != 1 and time.time() < end:
    time.sleep(0.001)
uwsgi.sharedarea_write64(0, 216, uwsgi.sharedarea_read64(0, 208) * 2)
uwsgi.sharedarea_write8(0, 201, 1)
'''


def poll(fn, secs=30):
    end = time.monotonic() + secs
    while not fn():
        assert time.monotonic() < end, 'uWSGI did not answer in %d s' % secs
        time.sleep(0.001)


def test_ping_pong_while_both_run(shared_file, tmp_path):
    a = sharedarea.get(sharedarea.add('file=%s,size=%d' % (shared_file, P)))
    script = str(tmp_path / 'live.py')
    with open(script, 'w') as f:
        f.write(LIVE)
    p = subprocess.Popen(uwsgi_diff.uwsgi_cmd(['file=%s,size=%d' % (shared_file, P)], script),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        poll(lambda: a.read8(202) == 1)
        a.write64(208, 21)
        a.write8(200, 1)
        poll(lambda: a.read8(201) == 1)
        assert a.read64(216) == 42
        assert p.wait(30) == 0
    finally:
        if p.poll() is None:
            os.killpg(p.pid, 9)
            p.wait()
        a.close()

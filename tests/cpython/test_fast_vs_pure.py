# The compiled fast path against the pure-Python port: the same seeded op sequences (fastdiff.py) run in a
# process of each kind must give the same results, errors (type and message), area bytes and counters.
import os
import subprocess
import sys

import pytest

from sharedarea import SharedAreaError

HERE = os.path.dirname(os.path.abspath(__file__))
# SHAREDAREA_DIFF_SEEDS=5,6,7 SHAREDAREA_DIFF_CALLS=20000 widen the search; a failure names its seed
SEEDS = os.environ.get('SHAREDAREA_DIFF_SEEDS', '1,2,3,4').split(',')
CALLS = int(os.environ.get('SHAREDAREA_DIFF_CALLS', '3000'))


def built():
    r = subprocess.run([sys.executable, '-c', 'import sharedarea.port_cpython as p; print(p.FAST)'],
                       env=dict(os.environ, SHAREDAREA_PURE='0'), stdout=subprocess.PIPE)
    return r.stdout.strip() == b'True'


def start(pure, tmp):
    os.mkdir(tmp)
    env = dict(os.environ, SHAREDAREA_PURE='1' if pure else '0')
    return subprocess.Popen([sys.executable, os.path.join(HERE, 'fastdiff.py'), str(CALLS), tmp] + SEEDS,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_fast_and_pure_agree_call_by_call(tmp_path):
    if not built():
        pytest.skip('the compiled fast path is not built here (no C compiler or Python headers at install)')
    procs = [start(True, str(tmp_path / 'pure')), start(False, str(tmp_path / 'fast'))]
    outs = []
    for p in procs:
        out, _ = p.communicate(timeout=300)
        outs.append(out.decode(errors='replace').replace(str(tmp_path / 'pure'), 'TMP')
                    .replace(str(tmp_path / 'fast'), 'TMP').splitlines())
    pure, fast = outs
    seed = None
    for k, (a, b) in enumerate(zip(pure, fast)):
        if a.startswith('SEED '):
            seed = a[5:]
        if a != b:
            ctx = '\n'.join('   ' + x[:300] for x in pure[max(0, k - 6):k])
            pytest.fail('seed %s: the two paths part at output line %d (rerun: SHAREDAREA_DIFF_SEEDS=%s)\n'
                        'before:\n%s\npure: %s\nfast: %s' % (seed, k, seed, ctx, a[:600], b[:600]))
    assert len(pure) == len(fast), 'one side stopped early:\npure: %s\nfast: %s' % (pure[-1:], fast[-1:])
    assert pure[-1] == 'END', 'the generator failed:\n' + '\n'.join(pure[-20:])
    assert len(pure) == len(SEEDS) * (CALLS + 1) + 1


# what the differential found, pinned down (run in-process, so on both paths by make test and test-pure)

def new(spec='size=16'):
    import sharedarea
    return sharedarea.get(sharedarea.add(spec))


def test_write_takes_any_bytes_like_object_by_its_bytes():
    from array import array
    a = new()
    a.write(0, array('H', [0x0201, 0x0403]))  # the pure path used to count items and refuse the copy
    assert a.read(0, 4) == b'\x01\x02\x03\x04'
    a.write(4, array('b', [-1, 1]))
    a.write(6, memoryview(b'abcd').cast('B', (2, 2)))
    assert a.read(4, 6) == b'\xff\x01abcd'
    assert a.updates == 3
    with pytest.raises(SharedAreaError):
        a.write(14, array('H', [1, 2]))  # 4 bytes, not 2 items, cross the end
    a.write(10, memoryview(b'xyxyxy')[::2])  # a strided byte view is still fine
    assert a.read(10, 3) == b'xxx' and a.updates == 4


def test_function_forms_take_the_keywords_the_readme_names():
    import sharedarea
    a = new()
    a.write(0, b'ab')
    assert sharedarea.sharedarea_read(a.id, 0, len=2) == b'ab'
    assert sharedarea.sharedarea_read(a.id, 0, length=1) == b'a'
    assert sharedarea.sharedarea_inc64(a.id, 8, amount=2) == 2
    assert sharedarea.sharedarea_wait(a.id, timeout=0.01) is False
    assert sharedarea.sharedarea_wait(a.id, timeout=0.01, since=0) is True
    with pytest.raises(TypeError, match='unexpected keyword'):
        sharedarea.sharedarea_inc8(a.id, where=0)
    assert a.read(0, 2) == b'ab' and a.updates == 2


def test_lock_methods_refuse_arguments_alike():
    a = new()
    for name in ('rlock', 'wlock', 'unlock'):
        with pytest.raises(TypeError, match=r'SharedArea.%s\(\) takes 1 positional argument but 2' % name):
            getattr(a, name)(1)
    with pytest.raises(SharedAreaError):
        a.unlock()  # nothing was taken


def waiter_on_close(a, method):
    # this thread holds wlock; another waits in rlock()/wlock(); close() lets it in: it must get the
    # area's closed error and hold nothing afterwards
    import threading
    import time
    a.wlock()
    got = []

    def body():
        try:
            getattr(a, method)()
            got.append('returned')
        except Exception as e:
            got.append(e)
    t = threading.Thread(target=body, daemon=True)
    t.start()
    time.sleep(0.1)
    a.close()
    t.join(10)
    assert len(got) == 1 and isinstance(got[0], SharedAreaError) and 'is closed' in str(got[0]), got


def test_lock_taken_while_the_area_closes_is_let_go_for_other_processes():
    import signal
    a = new()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.read(r, 1)
            signal.signal(signal.SIGALRM, lambda *x: os._exit(3))
            signal.alarm(5)
            a.write8(0, 1)  # a hold left behind in the parent would block this forever
            code = 0
        finally:
            os._exit(code)
    try:
        waiter_on_close(a, 'rlock')
    finally:
        os.write(w, b'x')
        code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        os.close(r)
        os.close(w)
    assert code == 0, 'the other process could not write after close (exit %d)' % code


def test_lock_taken_while_the_area_closes_is_let_go_for_the_same_file(tmp_path):
    import sharedarea
    import threading
    path = str(tmp_path / 'f')
    for method in ('rlock', 'wlock'):
        a = new('file=%s,size=16' % path)
        b = sharedarea.get(sharedarea.add('file=%s' % path))  # a second area on the same file: one lock
        waiter_on_close(a, method)
        done = []
        t = threading.Thread(target=lambda: done.append(b.inc8(0)), daemon=True)
        t.start()
        t.join(5)
        assert done, 'the other area on the file stayed locked after %s on the closed one' % method
        b.close()


def test_wait_refuses_nan_and_takes_an_endless_period():
    # a NaN timeout made the compiled wait() spin forever (a NaN sleep fails at once) and the pure one
    # raise from ctypes; an infinite freq could not be put in a timespec
    import threading
    import time
    a = new()
    for freq, timeout in ((float('nan'), 0.01), (100, float('nan')), (float('nan'), 0)):
        with pytest.raises(SharedAreaError, match='freq must be > 0'):
            a.wait(freq, timeout)
    assert a.wait(float('inf'), 0.02) is False
    t = threading.Timer(0.1, a.inc8, (0,))
    t.start()
    t0 = time.monotonic()
    assert a.wait(float('inf')) is True
    assert time.monotonic() - t0 < 5  # woken by the update, not by the period
    t.join()


def test_wait_stops_when_another_thread_closes_the_area():
    # the compiled wait() went on sleeping on a closed area (forever, without a timeout); the pure one
    # failed on the closed mapping with a bare ValueError
    import threading
    import time
    a = new()
    got = []

    def body():
        try:
            got.append(a.wait(100, 0))
        except Exception as e:
            got.append(e)
    t = threading.Thread(target=body, daemon=True)
    t.start()
    time.sleep(0.1)
    t0 = time.monotonic()
    a.close()
    t.join(10)
    assert len(got) == 1 and isinstance(got[0], SharedAreaError) and 'is closed' in str(got[0]), got
    assert time.monotonic() - t0 < 5

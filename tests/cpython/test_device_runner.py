# CPython tests of the device runner (tools/devtest.py) and the stand-in board (tools/board.py): a board
# given by port, a silent port, a wrong path, and test files that crash the interpreter or run out of memory.
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'tools'))
import board  # noqa: E402
import stage  # noqa: E402

pytestmark = pytest.mark.skipif(board.find_micropython() is None,
                                reason='needs the MicroPython unix port (micropython command) for a stand-in board')
CLOSING = re.compile(r'^device: (\d+) passed, (\d+) failed, (\d+) skipped$', re.M)


def devtest(*args, timeout=120):
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'devtest.py')] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
    return p.returncode, p.stdout, time.monotonic() - t0


def installed(d):
    # the files under the stand-in board's lib/, as package paths
    lib = os.path.join(d, 'fs', 'lib')
    return sorted(os.path.relpath(os.path.join(dp, n), lib) for dp, _, ns in os.walk(lib) for n in ns)


def test_runs_on_a_board_started_by_hand_and_stop_leaves_nothing(tmp_path):
    d = str(tmp_path / 'board2')
    subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'board.py'), 'start', '--dir', d],
                   check=True, timeout=30, stdout=subprocess.PIPE)
    server = board.read_pid(os.path.join(d, 'board.pid'))
    child = board.read_pid(os.path.join(d, 'child.pid'))
    try:
        port = open(os.path.join(d, 'port')).read().strip()
        assert board.alive(server) and board.alive(child)
        code, out, _ = devtest('--port', port, os.path.join(ROOT, 'tests', 'portable', 'test_ops.py'))
        assert code == 0, out
        m = CLOSING.search(out)
        assert m and int(m.group(1)) > 0 and m.group(2) == '0', out
        assert 'stand-in board' not in out  # a given port starts nothing
        # the library and the tests landed in this board's own filesystem
        assert os.path.exists(os.path.join(d, 'fs', 'lib', 'sharedarea', 'area.py'))
        assert os.path.exists(os.path.join(d, 'fs', 'sa_tests', 'test_ops.py'))
        assert board.alive(server)  # the runner leaves a board it did not start running
        # mip with the top-level package.json (relative urls, as `mip install github:OWNER/REPO` reads them)
        shutil.rmtree(os.path.join(d, 'fs', 'lib'))
        p = subprocess.run([sys.executable, '-m', 'mpremote', 'connect', port, 'mip', 'install',
                            os.path.join(ROOT, 'package.json'), '+', 'exec',
                            "import sharedarea; print('inc', sharedarea.get(sharedarea.add(1)).inc16(0, 5))"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
        assert p.returncode == 0 and 'inc 5' in p.stdout, p.stdout
        assert installed(d) == sorted(rel for _, rel in stage.files())
        # .mpy files from mpy-cross replace the .py ones, and the board loads them
        p = subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'deploy.py'), 'deploy', '--port', port,
                            '--mpy'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
        assert p.returncode == 0, p.stdout
        assert installed(d) == sorted(rel[:-3] + '.mpy' for _, rel in stage.files())
        code = "import sharedarea; print(sharedarea.__file__, sharedarea.get(sharedarea.add(1)).dec8(0))"
        p = subprocess.run([sys.executable, '-m', 'mpremote', 'connect', port, 'exec', code],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
        assert p.returncode == 0 and '__init__.mpy -1' in p.stdout, p.stdout
    finally:
        board.main(['stop', '--dir', d])
    assert not board.alive(server) and not board.alive(child)


def test_a_port_nobody_answers_fails_clearly_within_10_s():
    master, slave = os.openpty()  # a terminal with nothing behind it
    try:
        port = os.ttyname(slave)
        code, out, dt = devtest('--port', port, timeout=60)
    finally:
        os.close(slave)
        os.close(master)
    assert code == 2, out
    assert port in out and 'does not answer' in out, out
    assert dt < 10, 'took %.1f s' % dt


def test_a_wrong_port_path_fails_clearly():
    code, out, dt = devtest('--port', '/dev/no-such-board-here', timeout=60)
    assert code == 2
    assert 'no such port: /dev/no-such-board-here' in out, out
    assert dt < 10


def test_crash_memoryerror_and_hang_are_failures_and_the_next_file_runs(tmp_path):
    files = {
        # reading address 8 kills the unix port with SIGSEGV: the interpreter crashes mid-test
        'test_a_crash.py': '''
            import uctypes

            def test_crash():
                uctypes.bytearray_at(8, 8)[0]
            ''',
        # fails at import, so no RESULT line at all; the traceback must be shown
        'test_b_memory.py': '''
            big = bytearray(64 * 1024 * 1024)

            def test_never_runs():
                pass
            ''',
        'test_c_hang.py': '''
            def test_hang():
                while True:
                    pass
            ''',
        'test_d_fine.py': '''
            from sa_testutil import skip
            import sharedarea

            def test_works():
                assert sharedarea.get(sharedarea.add('size=8')).inc8(0) == 1

            def test_skips():
                skip('needs nothing, just a reason')
            ''',
    }
    for name, body in files.items():
        (tmp_path / name).write_text(textwrap.dedent(body))
    code, out, _ = devtest('--timeout', '5', str(tmp_path))
    assert code == 1, out
    assert CLOSING.search(out).groups() == ('1', '3', '1'), out
    assert re.search(r'^test_a_crash .* 1 failed', out, re.M) and 'SIGSEGV' in out, out
    assert re.search(r'^test_b_memory .* 1 failed', out, re.M) and 'MemoryError' in out, out
    assert re.search(r'^test_c_hang .* 1 failed.*timed out after 5 s', out, re.M), out
    assert re.search(r'^test_d_fine .* 1 passed, 0 failed, 1 skipped', out, re.M), out
    assert 'SKIP test_d_fine.test_skips: needs nothing, just a reason' in out, out


def test_package_json_lists_what_stage_lays_out():
    import json
    with open(os.path.join(ROOT, 'package.json')) as f:
        doc = json.load(f)
    want = sorted([rel, os.path.relpath(src, ROOT)] for src, rel in stage.files())
    assert sorted(doc['urls']) == want, 'package.json is stale: run python tools/deploy.py package-json'
    assert all(not src.startswith('/') and '://' not in src for _, src in doc['urls'])  # relative urls

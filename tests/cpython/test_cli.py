# CPython-only: `python -m sharedarea SPEC COMMAND ...` run as a user runs it, in its own process, on a file
# area that this test (or a writer process) also has open.
import json
import os
import subprocess
import sys
import time

import sharedarea
from sharedarea.port_cpython.cli import hexdump


def cli(*args, input=None, timeout=20):
    p = subprocess.run([sys.executable, '-m', 'sharedarea'] + [str(a) for a in args], input=input,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def area_at(tmp_path, size=64):
    path = str(tmp_path / 'area')
    return path, sharedarea.get(sharedarea.add('file=%s,size=%d' % (path, size)))


def test_integers_round_trip_through_the_command_line(tmp_path):
    path, a = area_at(tmp_path)
    try:
        assert cli(path, 'set', 8, 0x1234, '--bits', 16) == (0, '', '')
        assert a.read16(8) == 0x1234
        assert cli(path, 'get', 8, '--bits', 16)[1] == '4660\n'
        a.write64(16, -2)
        assert cli(path, 'get', 16)[1] == '-2\n'
        assert cli(path, 'get', 16, '--unsigned')[1] == '%d\n' % (2 ** 64 - 2)
        assert cli(path, 'inc', 16, 5)[1] == '3\n'
        assert cli(path, 'dec', 16)[1] == '2\n'
        assert cli(path, 'inc', '0x18', '--bits', 8, '--unsigned')[1] == '1\n'
        assert a.read64(16) == 2 and a.read8(24) == 1
    finally:
        a.close()


def test_bytes_round_trip_and_dump_has_hexdumps_layout(tmp_path):
    path, a = area_at(tmp_path, 100)
    try:
        assert cli(path, 'write', 0, '--text', 'hello world')[0] == 0
        assert cli(path, 'write', 40, '--hex', '00ff10')[0] == 0
        assert cli(path, 'write', 50, '-', input=b'\x01\x02raw')[0] == 0
        assert a.read(0, 11) == b'hello world' and a.read(40, 3) == b'\x00\xff\x10' and a.read(50, 5) == b'\x01\x02raw'
        assert cli(path, 'read', 0, 5) == (0, '68656c6c6f\n', '')
        assert cli(path, 'read', 6, 5, '--text')[1] == 'world\n'
        raw = subprocess.run([sys.executable, '-m', 'sharedarea', path, 'dump', '--raw'], stdout=subprocess.PIPE)
        assert raw.stdout == a.read(0)
        code, out, err = cli(path, 'dump')
        assert code == 0
        # the same lines as hexdump -C, repeated rows as '*', the end offset last
        assert out.splitlines() == hexdump(a.read(0), 0)
        assert out.splitlines()[0] == '00000000  68 65 6c 6c 6f 20 77 6f  72 6c 64 00 00 00 00 00  |hello world.....|'
        assert '*' in out.splitlines() and out.splitlines()[-1] == '00000064'
        assert cli(path, 'dump', 40, 3)[1].splitlines() == [
            '00000028  00 ff 10                                          |...|', '0000002b']
    finally:
        a.close()


def test_hexdump_lines_match_the_hexdump_command(tmp_path):
    data = bytes(range(200)) + bytes(64) + b'tail'
    f = tmp_path / 'blob'
    f.write_bytes(data)
    try:
        want = subprocess.run(['hexdump', '-C', str(f)], stdout=subprocess.PIPE, text=True).stdout
    except FileNotFoundError:
        return  # no hexdump here (bsdextrautils): the layout is checked against fixed lines above
    assert hexdump(data, 0) == want.splitlines()


def test_info_names_the_companion_the_lock_holder_and_the_users(tmp_path):
    path, a = area_at(tmp_path)
    try:
        a.inc64(0)
        with a.wlock():
            code, out, err = cli(path, 'info')
        assert code == 0, err
        me = str(os.getpid())
        lines = dict(ln.split(':', 1) for ln in out.splitlines())
        assert lines['size'].strip() == '64 bytes'
        assert lines['updates'].strip().startswith('1 ') and 'only while some process has the area open' in out
        assert lines['companion'].strip() == sharedarea.port_cpython.companion(path)
        assert me in lines['writer'] and me in lines['users'] and me in lines['mapped by']
        with a.rlock():
            out = cli(path, 'info')[1]
        lines = dict(ln.split(':', 1) for ln in out.splitlines())
        assert lines['writer'].strip() == 'none' and me in lines['readers']
    finally:
        a.close()


def test_looking_leaves_the_users_locks_and_counter_alone(tmp_path):
    path, a = area_at(tmp_path)
    try:
        a.wlock()
        for _ in range(3):
            assert cli(path, 'info')[0] == 0
        # still ours: a command that needs the area waits for our unlock
        p = subprocess.Popen([sys.executable, '-m', 'sharedarea', path, 'inc', '0'], stdout=subprocess.PIPE)
        time.sleep(0.7)
        assert p.poll() is None
        a.write64(0, 41)
        a.unlock()
        assert p.communicate(timeout=20)[0] == b'42\n'
        assert a.updates == 2
    finally:
        a.close()


WRITER = '''
import sys, time, sharedarea
a = sharedarea.get(sharedarea.add('file=%s'))
for line in sys.stdin:          # one update per line the test sends, after it saw the watcher's line
    a.inc64(8, int(line))
'''


def test_watch_prints_a_line_per_update_from_a_writer_process(tmp_path):
    path, a = area_at(tmp_path)
    try:
        a.write64(8, 100)
        n0 = a.updates
        w = subprocess.Popen([sys.executable, '-c', WRITER % path], stdin=subprocess.PIPE, text=True)
        watch = subprocess.Popen([sys.executable, '-m', 'sharedarea', path, 'watch', '8', '--bits', '64', '--count', '3',
                                  '--json'], stdout=subprocess.PIPE, text=True)
        seen = [json.loads(watch.stdout.readline())]
        for k in (1, 2, 3):
            w.stdin.write('%d\n' % k)
            w.stdin.flush()
            seen.append(json.loads(watch.stdout.readline()))
        assert watch.wait(timeout=20) == 0
        w.stdin.close()
        w.wait(timeout=20)
        assert [s['value'] for s in seen] == [100, 101, 103, 106]
        assert [s['updates'] for s in seen] == [n0, n0 + 1, n0 + 2, n0 + 3]
    finally:
        a.close()


def test_watch_misses_no_update_that_lands_while_it_prints(tmp_path):
    # updates in a burst may share a line, but the counter says how many there were and --count ends on time
    path, a = area_at(tmp_path)
    try:
        watch = subprocess.Popen([sys.executable, '-m', 'sharedarea', path, 'watch', '--count', '50'],
                                 stdout=subprocess.PIPE, text=True)
        first = watch.stdout.readline()
        assert first.startswith('updates=0 ')
        for _ in range(50):
            a.inc8(3)
        out = watch.communicate(timeout=20)[0].splitlines()
        assert watch.returncode == 0
        assert out[-1].startswith('updates=50 ') and out[-1].endswith('3: 32')
    finally:
        a.close()


def test_errors_exit_1_with_the_message_and_usage_exits_2(tmp_path):
    path, a = area_at(tmp_path, 16)
    try:
        code, out, err = cli(path, 'get', 12)  # 64 bits from 12 cross the end
        assert code == 1 and err.startswith('sharedarea: ') and 'Traceback' not in err
        code, out, err = cli(path, 'set', 0, 300, '--bits', 8)
        assert code == 1 and '300' in err and a.read8(0) == 0
        assert cli(str(tmp_path / 'missing'), 'info')[0] == 1
        assert cli('size=abc', 'info')[0] == 1
        assert cli(path, 'frobnicate')[0] == 2
        assert cli(path)[0] == 2
        assert cli(path, 'get')[0] == 2
        assert cli(path, 'get', 0, '--bits', 12)[0] == 2
        assert cli(path, 'write', 0)[0] == 2
        assert cli('list', 'extra')[0] == 2
    finally:
        a.close()


def test_list_shows_areas_in_use_with_their_users(tmp_path):
    path, a = area_at(tmp_path)
    try:
        code, out, err = cli('list')
        assert code == 0
        mine = [ln for ln in out.splitlines() if ln.startswith(path + ' ')]
        assert mine and str(os.getpid()) in mine[0]
    finally:
        a.close()


def test_the_console_script_is_installed():
    exe = os.path.join(os.path.dirname(sys.executable), 'sharedarea')
    if not os.path.exists(exe):
        return  # an install without scripts (a plain PYTHONPATH run)
    assert subprocess.run([exe, '--help'], stdout=subprocess.PIPE).returncode == 0


HOLDER = '''
import sys, sharedarea
a = sharedarea.get(sharedarea.add('file=%s'))
a.write64(0, 7)
print('ready', flush=True)
sys.stdin.read()
'''


def test_it_speaks_the_lock_path_of_the_areas_users():
    # users on the pure-Python path, the command (compiled where built) switches to theirs instead of failing
    if not sharedarea.port_cpython.FAST:
        return  # only one path here: nothing to switch
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, 'area')
        with open(path, 'wb') as f:
            f.write(bytes(64))
        env = dict(os.environ, SHAREDAREA_PURE='1')
        h = subprocess.Popen([sys.executable, '-c', HOLDER % path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             env=env, text=True)
        try:
            assert h.stdout.readline() == 'ready\n'
            env = dict(os.environ)
            env.pop('SHAREDAREA_PURE', None)
            p = subprocess.run([sys.executable, '-m', 'sharedarea', path, 'info'], stdout=subprocess.PIPE, text=True,
                               env=env, timeout=20)
            assert p.returncode == 0 and 'pure-Python' in p.stdout and str(h.pid) in p.stdout
            p = subprocess.run([sys.executable, '-m', 'sharedarea', path, 'inc', '0'], stdout=subprocess.PIPE,
                               text=True, env=env, timeout=20)
            assert (p.returncode, p.stdout) == (0, '8\n')
        finally:
            h.stdin.close()
            h.wait(timeout=20)

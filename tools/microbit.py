# The emulated BBC micro:bit: Debian's MicroPython 1.9.2 firmware in QEMU (-M microbit), its UART on a pty.
# Boots it in the background, puts the micro:bit edition on it (microbit/, built by tools/microbit_build.py),
# measures heap, runs the portable tests one function at a time, and builds and boots the demo hex.
#
#   python tools/microbit.py test [test files...]   the portable tests; ends "device: N passed, N failed, N skipped"
#   python tools/microbit.py heap                   the heap table (markdown)
#   python tools/microbit.py hex [OUT.hex]          the demo hex: firmware + a boot script (tools/microbit_demo.py)
#   python tools/microbit.py demo [HEX]             boots the demo hex and prints what it prints
import ast
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tools'))
import microbit_build  # noqa: E402

FIRMWARE = os.environ.get('MICROBIT_FIRMWARE', '/usr/share/firmware-microbit-micropython/firmware.hex')
TESTS = os.path.join(ROOT, 'tests', 'portable')
WORK = os.path.join(ROOT, 'build', 'microbit-run')  # QEMU's log and pid file, the demo hex


class BoardError(Exception):
    pass


class ToolsMissing(BoardError):
    pass  # QEMU or the firmware is not installed: the runners skip the micro:bit, with this message


def check_tools():
    # a clear error for each missing piece, naming the package that provides it
    if not shutil.which('qemu-system-arm'):
        raise ToolsMissing('qemu-system-arm is missing (Debian: apt-get install qemu-system-arm)')
    if not os.path.exists(FIRMWARE):
        raise ToolsMissing('the micro:bit firmware %s is missing (Debian: apt-get install '
                         'firmware-microbit-micropython)' % FIRMWARE)
    try:
        import mpremote.transport_serial  # noqa: F401
    except ImportError:
        raise BoardError('mpremote is missing (pip install mpremote)')


class Board:
    # one QEMU process running a micro:bit hex; serial='pty' (found in QEMU's output) or 'stdio'
    # (the output is the log); stop() ends it by its pid
    def __init__(self, hexfile=FIRMWARE, serial='pty', timeout=20):
        check_tools()
        if not os.path.exists(hexfile):
            raise BoardError('no such hex file: %s' % hexfile)
        self.hexfile, self.serial, self.timeout = hexfile, serial, timeout
        self.proc = self.pty = None
        os.makedirs(WORK, exist_ok=True)
        self.log = os.path.join(WORK, 'qemu.log')
        self.pidfile = os.path.join(WORK, 'qemu.pid')

    def start(self):
        with open(self.log, 'wb') as out:
            self.proc = subprocess.Popen(
                ['qemu-system-arm', '-M', 'microbit', '-device', 'loader,file=' + self.hexfile,
                 '-nographic', '-serial', self.serial, '-monitor', 'none'],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        with open(self.pidfile, 'w') as f:
            f.write('%d\n' % self.proc.pid)
        if self.serial != 'pty':
            return self
        t0 = time.monotonic()
        while time.monotonic() - t0 < self.timeout:
            m = re.search(r'char device redirected to (/dev/pts/\d+)', self.output())
            if m:
                self.pty = m.group(1)
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        text = self.output().strip()
        self.stop()
        raise BoardError('QEMU did not offer a pty within %d s: %s' % (self.timeout, text or '(no output)'))

    def output(self):
        with open(self.log, 'rb') as f:
            return f.read().decode('utf-8', 'replace')

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if os.path.exists(self.pidfile):
            os.remove(self.pidfile)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class Repl:
    # the board's raw REPL through mpremote's serial transport. The firmware's UART drops bytes that come
    # faster than it reads them (mpremote sends 256 at once), so code goes in small paced slices, and
    # files go in checked chunks.
    def __init__(self, pty):
        from mpremote.transport_serial import SerialTransport
        self.t = SerialTransport(pty, 115200)
        self.t.serial.timeout = 10  # a read never blocks for ever when the UART lost a byte
        self.resent = 0
        self.t.enter_raw_repl(soft_reset=True)

    def reset(self):
        # a soft reset: a fresh heap; the files stay
        self.t.exit_raw_repl()
        self.t.enter_raw_repl(soft_reset=True)

    def run(self, code, timeout=30):
        # (stdout, stderr) of code run on the board, as text
        t = self.t
        if not t.read_until(1, b'>').endswith(b'>'):
            raise BoardError('no raw REPL prompt')
        code = code.encode()
        for i in range(0, len(code), 32):
            t.serial.write(code[i:i + 32])
            time.sleep(0.004)
        t.serial.write(b'\x04')
        got = t.serial.read(2)
        for _ in range(3):  # on a loaded machine QEMU can answer after the 10 s read timeout: wait longer
            if len(got) == 2:
                break
            got += t.serial.read(2 - len(got))
        if got != b'OK':
            raise BoardError('the board did not take the code (it answered %r)' % got)
        out, err = t.follow(timeout)
        return out.decode('utf-8', 'replace').replace('\r\n', '\n'), err.decode('utf-8', 'replace')

    def ok(self, code, timeout=30):
        out, err = self.run(code, timeout)
        if err:
            raise BoardError('on the board: %s\n%s' % (code[:200], err.strip()))
        return out

    def put(self, name, data):
        # writes a file through exec (the firmware has no os.stat, so no `mpremote cp`). Each chunk carries
        # its length and sum and is sent again when they differ; the whole file is checked at the end
        # and written again (up to 3 times) when the board's copy differs.
        if isinstance(data, str):
            data = data.encode()
        for _ in range(3):
            try:
                self._put(name, data)
                got = self.ok("f=open(%r,'rb')\nd=f.read()\nf.close()\nprint(len(d),sum(d))\ndel d" % name).split()
                if got == [str(len(data)), str(sum(data))]:
                    return
            except BoardError as e:
                if 'no more storage space' in str(e) or 'OSError: 28' in str(e):
                    raise BoardError('%s: the micro:bit filesystem is full' % name)
            self.resent += 1
            self.reset()
        raise BoardError('%s: the board did not get the file right after 3 tries' % name)

    def _put(self, name, data):
        self.ok("f=open(%r,'wb')\ndef w(d,n,s):\n if len(d)!=n or sum(d)!=s:\n  return 0\n"
                " while d:\n  d=d[f.write(d):]\n return 1\nprint(w(b'',0,0))" % name)
        for i in range(0, len(data), 96):
            ch = data[i:i + 96]
            for _ in range(5):
                out, err = self.run('print(w(%r,%d,%d))' % (ch, len(ch), sum(ch)))
                if out.strip() == '1' and not err:
                    break
                if err and 'SyntaxError' not in err:
                    raise BoardError(err.strip().splitlines()[-1])
                self.resent += 1
            else:
                raise BoardError('%s: chunk at %d did not arrive after 5 tries' % (name, i))
        self.ok('f.close()')

    def close(self):
        try:
            self.t.exit_raw_repl()
        finally:
            self.t.close()


def install(repl, extra=()):
    # removes every file, then writes the edition's built files (plus extra (name, text) pairs)
    repl.ok('import os\nfor n in os.listdir():\n os.remove(n)')
    for name, path in microbit_build.build():
        with open(path) as f:
            repl.put(name, f.read())
    for name, text in extra:
        repl.put(name, text)
    repl.reset()


class Session:
    # a booted board with the library on it; restart() after a hang
    def __init__(self):
        self.board = self.repl = None

    def start(self):
        self.board = Board().start()
        try:
            self.repl = Repl(self.board.pty)
            install(self.repl)
        except BaseException:
            self.stop()  # never leave QEMU running behind a failed start
            raise
        return self

    def restart(self):
        self.stop()
        return self.start().repl

    def stop(self):
        if self.repl:
            try:
                self.repl.close()
            except Exception:
                pass
            self.repl = None
        if self.board:
            self.board.stop()
            self.board = None


# ---------------------------------------------------------------- heap


def _free(repl):
    # (free bytes, largest free block in bytes) after a collection; (0, 0) when the heap is too full or
    # too cut up to run even this. Where the one statement does not compile, its lines go one by one
    # (each is compiled in what is left).
    out, err = repl.run('import gc,micropython\ngc.collect()\nprint(gc.mem_free())\nmicropython.mem_info()')
    if err:
        for line in ('import gc,micropython', 'gc.collect()', 'print(gc.mem_free())', 'micropython.mem_info()'):
            o, err = repl.run(line)
            out = out + o if not err else ''
    m = re.search(r'max free sz: (\d+)', out)
    return (int(out.split()[0]), int(m.group(1)) * 16) if m and not err else (0, 0)


AREA = "a=sharedarea.get(sharedarea.add(1))\n"
# (what, code run first in a fresh heap, code measured): each row after a soft reset. The import, an
# area, then each part loaded after them, and parts together, with a collection after each (as the test
# runner loads them).
HEAP_ROWS = (
    ('boot: nothing imported', '', 'pass'),
    ('`import sharedarea` (sharedarea.py, sa_area.py)', '', 'import sharedarea'),
    ('+ add(1): one 256-byte area', 'import sharedarea', AREA),
) + tuple(("+ load(%s)" % ', '.join(map(repr, ps)), 'import gc, sharedarea\n' + AREA,
           ''.join('sharedarea.load(%r)\ngc.collect()\n' % p for p in ps))
          for ps in (('ints',), ('locks',), ('wait',), ('extra',), ('names',), ('spec',), ('ints', 'locks'),
                     ('ints', 'wait'), ('ints', 'extra'), ('ints', 'names'), ('locks', 'wait'),
                     ('ints', 'locks', 'wait')))


def heap(ses):
    # [(what, bytes it took or None, heap free after, largest free block after, error or '')] on the
    # session's board; a row after which the board stops answering says so, and the board restarts
    rows = []
    for what, first, code in HEAP_ROWS:
        try:
            rows.append(_heap_row(ses.repl, what, first, code))
        except BoardError as e:
            rows.append((what, None, 0, 0, 'the board stopped answering (%s)' % e))
            ses.restart()
    return rows


def _heap_row(repl, what, first, code):
    repl.reset()
    out, err = repl.run(first) if first else ('', '')
    if err:
        return what, None, 0, 0, 'before it: ' + err.strip().splitlines()[-1]
    f0, _ = _free(repl)
    out, err = repl.run(code)
    f1, big = _free(repl)
    err = err.strip().splitlines()[-1] if err.strip() else '' if f1 else 'the heap is used up'
    return what, None if err else f0 - f1, f1, big, err


def heap_table(rows):
    lines = ['| on the emulated micro:bit (fresh heap each row) | heap it took | free after | largest free block |',
             '|---|---|---|---|']
    for what, took, free, big, err in rows:
        lines.append('| %s | %s | %d | %d |' % (what, err or took, free, big))
    return '\n'.join(lines)


# ---------------------------------------------------------------- tests

# what the tests use of sa_testutil, for a board without threads or pytest (the board cannot compile all
# of sa_testutil next to the library)
UTIL = (('SkipTest', "class SkipTest(Exception):\n pass\n"), ('skip', "def skip(why):\n raise SkipTest(why)\n"),
        ('need_threads', "def need_threads():\n skip('needs threads (_thread): this firmware has none')\n"),
        ('run_threads', "def run_threads(*a):\n need_threads()\n"),
        ('start_thread', "def start_thread(*a):\n need_threads()\n"),
        ('need_memoryview', "def need_memoryview():\n skip('needs memoryview, which this firmware does not have')\n"),
        ('raises', "def raises(exc,fn,*args):\n try:\n  fn(*args)\n except exc as e:\n  return e\n"
                   " raise AssertionError('%r did not raise %r'%(args,exc))\n"),
        ('address_of', "def address_of(b):\n from machine import mem32\n return mem32[id(b)+12]\n"),
        ('sleep_ms', "from utime import sleep_ms\n"), ('ticks_ms', "from utime import ticks_ms\n"))
# imports of what the micro:bit cannot have, and why (the test is skipped with this reason)
MISSING = {'sharedarea.uwsgi': 'the uWSGI drop-in needs sys.modules, which this firmware does not have',
           'asyncio': 'await area.changed() needs asyncio and async/await, which this firmware (1.9.2) has not'}
# tests that need what this firmware does not do, and why
CANNOT = {'test_small_int_ops_allocate_nothing': 'micropython.heap_lock on this firmware (1.9.2) hangs the board '
                                                 'at an allocation instead of raising MemoryError'}


def split_tests(path):
    # (import lines, [(names it defines, source)] of the other module-level statements, [(test name,
    # its source)]) of a portable test module
    with open(path) as f:
        src = f.read()
    lines = src.splitlines(True)
    imports, pre, tests = [], [], []
    for node in ast.parse(src).body:
        text = ''.join(lines[node.lineno - 1:node.end_lineno])
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if not (isinstance(node, ast.ImportFrom) and node.module == 'sa_testutil'):
                imports.append(text)
        elif isinstance(node, ast.FunctionDef) and node.name.startswith('test_'):
            tests.append((node.name, text))
        else:
            names = [node.name] if isinstance(node, ast.FunctionDef) else [
                t.id for t in getattr(node, 'targets', []) if isinstance(t, ast.Name)]
            pre.append((names, text))
    return ''.join(imports), pre, tests


def helpers(pre, text):
    # the helpers the test uses (of UTIL and of the module's own), in order, as sources: only those its
    # code (not its comments) names, and those they name, as each costs heap on the board
    used, want, grew = set(), [microbit_build.strip(textwrap.dedent(text))], True
    every = [([n], t) for n, t in UTIL] + pre
    while grew:
        grew = False
        for names, body in every:
            if body not in used and any(re.search(r'\b%s\b' % n, ''.join(want)) for n in names):
                used.add(body)
                want.append(body)
                grew = True
    return [t for _, t in every if t in used]


def statements(text):
    # the test function's body, one top-level statement at a time: the board compiles each on its own,
    # which takes far less heap at once than the whole function
    lines = text.splitlines(True)
    out = []
    for st in ast.parse(text).body[0].body:
        if isinstance(st, ast.Expr) and isinstance(st.value, ast.Constant):
            continue  # a docstring
        out.append(microbit_build.strip(textwrap.dedent(''.join(lines[st.lineno - 1:st.end_lineno]))))
    return out


# the parts of the library (sharedarea.load) a test uses, by what its source says
NEEDS = (('ints', r'(read|write|inc|dec)(8|16|32|64|%d|byte|long)'), ('locks', r'rlock|wlock|unlock|with '),
         ('wait', r'\.(wait|update)\b|sharedarea_(wait|update)'),
         ('extra', r'\.(readfast|memoryview|object)\b|sharedarea_(readfast|memoryview|object)|repr\('),
         ('names', r'sharedarea_'))
PLAIN = r'\d+|(size|pages)=(\d+|%d)'  # spec strings add() takes without the part spec


def needs(text, pre=()):
    # (from the code, not its comments: "with a lowercase 0x" in one needs no lock)
    src = microbit_build.strip(textwrap.dedent(text + ''.join(t for _, t in pre if t in helpers(pre, text))))
    specs = re.findall(r"add\('([^']*)'|'((?:pages|size|file|fd|ptr|offset)=[^']*)'", src)
    spec = 'SPECS' in src or any(not re.fullmatch(PLAIN, a or b) for a, b in specs)
    return [p for p, pat in NEEDS if re.search(pat, src)] + (['spec'] if spec else [])


def run_test(repl, imports, pre, name, text):
    # ('PASS' | 'FAIL' | 'SKIP', detail) of one test function, in a fresh heap: the library first (it fits
    # only into a fresh heap) with the parts the test uses, then its imports and helpers, then its body
    # (as in the function: its locals are the REPL's globals here): all at once where it compiles there,
    # else again, in a fresh heap, statement by statement, which takes less heap at once but leaves the
    # heap more cut up between the statements
    for mod, why in MISSING.items():
        if mod in imports or mod in microbit_build.strip(textwrap.dedent(text)):  # (its code, not comments)
            return 'SKIP', why
    if name in CANNOT:
        return 'SKIP', CANNOT[name]
    body = statements(text)
    parts = needs(text, pre)
    units = (['import gc,sharedarea'] + ['sharedarea.load(%r)' % p for p in parts] +
             [microbit_build.strip(imports)] + [microbit_build.strip(h) for h in helpers(pre, text)])
    res = _run(repl, units, parts, ['\n'.join(body)])
    if len(body) > 1 and res[0] == 'SKIP' and '(the test:' in res[1]:
        res = _run(repl, units, parts, body)
    return res


def _run(repl, units, parts, body):
    # run_test's work: units, then the test's body in pieces (statements, or all of it as one)
    repl.reset()
    for i, unit in enumerate(units + body):
        k = i - len(units) + 1  # the piece of the body, from 1
        what = ('the test' if len(body) == 1 else 'statement %d of the test' % k) if k > 0 else (
            'the library with %s' % (', '.join(parts) or 'no part') if i <= len(parts) else 'its helpers')
        for _ in range(3):
            # each ends with a collection, so the next is compiled in a clean heap: the firmware's parser
            # does not collect when it runs short (it fails), and garbage of the last statement is in its way
            out, err = repl.run(unit + ('\ngc.collect()' if i else ''), timeout=60)
            if 'SyntaxError' not in err:
                break
            repl.resent += 1  # the UART dropped a byte of it: it did not run, so it is sent again
        last = err.strip().splitlines()[-1] if err.strip() else ''
        if 'MemoryError' in last:
            # the capability this board lacks here is heap: the test does not fit next to the library
            return 'SKIP', 'needs more heap than the micro:bit has (%s: %s)' % (what, last)
        if 'maximum recursion depth' in last:
            # or C stack (1.8 KB): a part loaded from deep inside calls (%s)
            return 'SKIP', 'needs more C stack than the micro:bit has (a part loaded inside calls: %s)' % last
        if last.startswith('SkipTest'):
            return 'SKIP', last[10:]
        if err:
            return 'FAIL', '%s: %s\n%s' % (what, unit.strip(), err.strip())
        repl.run('gc.collect()')  # and once more, without the code of the last statement, now garbage
    return 'PASS', ''


def run_tests(files=None, session=None):
    # boots the board (or uses session), runs every test function, prints a line per failure or skip and
    # per file, and the closing line; returns (passed, failed, skipped)
    files = files or sorted(os.path.join(TESTS, n) for n in os.listdir(TESTS) if n.startswith('test_'))
    ses = session or Session().start()
    tp = tf = ts = 0
    try:
        for path in files:
            mod = os.path.basename(path)[:-3]
            imports, pre, tests = split_tests(path)
            p = f = s = 0
            t0 = time.monotonic()
            for name, text in tests:
                try:
                    res, detail = run_test(ses.repl, imports, pre, name, text)
                except Exception as e:  # the board hung or died: this test fails, the board restarts
                    res, detail = 'FAIL', 'board did not answer: %s' % e
                    ses.restart()
                if res == 'PASS':
                    p += 1
                elif res == 'SKIP':
                    s += 1
                    print('SKIP %s.%s: %s' % (mod, name, detail))
                else:
                    f += 1
                    print('FAIL %s.%s\n%s' % (mod, name, detail))
            print('%-28s %3d passed, %d failed, %d skipped  (%.1f s)' % (mod, p, f, s, time.monotonic() - t0))
            tp, tf, ts = tp + p, tf + f, ts + s
    finally:
        if session is None:
            ses.stop()
    print('device: %d passed, %d failed, %d skipped' % (tp, tf, ts))
    return tp, tf, ts


# ---------------------------------------------------------------- the demo hex
#
# The v1 firmware runs the script stored at flash 0x3e000 ("MP", its length in 2 bytes, the script) at
# boot. Ours is an installer and the demo: the library files it needs follow in the same 8 KB region at
# DATA (each: name length, name, size in 2 bytes, bytes; a 0 ends them), and the installer copies them
# into the filesystem on the first boot (reading the flash with machine.mem8), so the demo can import
# sharedarea. The demo runs in the script itself: an import from inside an imported module would be one
# level too deep for the firmware's C stack.
SCRIPT_AT = 0x3e000
DATA = 0x3e200  # the boot script must fit below it (508 bytes)
HEX_FILES = ('sharedarea.py', 'sa_area.py')  # what the demo uses: the import, no part
# the boot script: on the first boot, the installer (stored at DATA as length + text) copies the files
# into the filesystem and resets the board, so the demo then starts in a clean heap. The import comes
# first, from the script itself (one level deeper is too deep), then the demo (the file sa_demo: the
# demo less its import) runs: compiled then, it takes no heap while the library loads.
BOOT = """import os
if 'sa_area.py' not in os.listdir():
 from machine import mem8,reset
 exec(bytes(mem8[%d+i] for i in range(mem8[%d]|mem8[%d]<<8)))
 reset()
import sharedarea
exec(open('sa_demo').read())
"""
INSTALL = """a=%d
while mem8[a]:
 n=str(bytes(mem8[a+1+i] for i in range(mem8[a])),'utf-8')
 a+=1+mem8[a]
 z=mem8[a]|mem8[a+1]<<8
 a+=2
 f=open(n,'wb')
 for i in range(0,z,64):
  f.write(bytes(mem8[a+j] for j in range(i,min(z,i+64))))
 f.close()
 a+=z
"""
DEMO_END = 'sharedarea demo:'


def _records(addr, data):
    # Intel HEX data records for data at addr (an extended linear address record first)
    out = [':02000004%04X' % (addr >> 16)]
    out[0] += '%02X' % (-sum(bytes.fromhex(out[0][1:])) & 255)
    for i in range(0, len(data), 16):
        ch = data[i:i + 16]
        a = (addr + i) & 0xFFFF
        rec = bytes([len(ch), a >> 8, a & 255, 0]) + ch
        out.append(':' + rec.hex().upper() + '%02X' % (-sum(rec) & 255))
    return out


def build_hex(out=None):
    # the firmware with the installer, the demo and the library files; returns the hex's path
    if not os.path.exists(FIRMWARE):
        check_tools()  # names the missing piece and its package
    with open(FIRMWARE) as f:
        lines = f.read().split()
    built = dict(microbit_build.build())
    with open(os.path.join(ROOT, 'tools', 'microbit_demo.py')) as f:
        demo = f.read()
    script = (BOOT % (DATA + 2, DATA, DATA + 1)).encode()
    demo = microbit_build.strip(demo.replace('import sharedarea\n', '', 1))
    if len(script) > DATA - SCRIPT_AT - 4:
        raise BoardError('the boot script is %d bytes; %d fit' % (len(script), DATA - SCRIPT_AT - 4))
    n = len(INSTALL % DATA)  # the files follow the installer; their address has as many digits as DATA
    install = (INSTALL % (DATA + 2 + n)).encode()
    assert len(install) == n
    files = bytes([n & 255, n >> 8]) + install
    for name in HEX_FILES + ('sa_demo',):
        if name == 'sa_demo':
            body = demo.encode()
        else:
            with open(built[name], 'rb') as f:
                body = f.read()
        files += bytes([len(name)]) + name.encode() + bytes([len(body) & 255, len(body) >> 8]) + body
    files += b'\x00'
    if DATA + len(files) > 0x40000:
        raise BoardError('the library files take %d bytes; %d fit in the script region' % (len(files), 0x40000 - DATA))
    head = b'MP' + bytes([len(script) & 255, len(script) >> 8]) + script
    recs = _records(SCRIPT_AT, head) + _records(DATA, files)
    end = [i for i, ln in enumerate(lines) if ln.startswith(':00000001')][0]
    out = out or os.path.join(WORK, 'sharedarea-demo.hex')
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, 'w') as f:
        f.write('\n'.join(lines[:end] + recs + lines[end:]) + '\n')
    return out


def boot_demo(hexfile=None, timeout=60):
    # boots the hex in QEMU (its UART into a log) until the demo has printed, or the timeout; returns
    # what the board printed
    hexfile = hexfile or build_hex()
    board = Board(hexfile, serial='file:' + os.path.join(WORK, 'demo.out'))
    if os.path.exists(os.path.join(WORK, 'demo.out')):
        os.remove(os.path.join(WORK, 'demo.out'))  # the last run's output, until QEMU opens the file anew
    t0 = time.monotonic()
    try:
        board.start()
        out = ''
        while time.monotonic() - t0 < timeout:
            time.sleep(0.2)
            try:
                with open(os.path.join(WORK, 'demo.out'), 'rb') as f:
                    out = f.read().decode('utf-8', 'replace')
            except OSError:
                continue
            if re.search(DEMO_END + '.*\n|Error', out) or board.proc.poll() is not None:
                time.sleep(0.5)
                with open(os.path.join(WORK, 'demo.out'), 'rb') as f:
                    out = f.read().decode('utf-8', 'replace')
                break
    finally:
        board.stop()
    return out.replace('\x00', '').replace('\r\n', '\n').strip()  # (the UART starts with NULs)


def main(argv):
    cmd = argv[0] if argv else 'test'
    try:
        if cmd == 'test':
            return 1 if run_tests([os.path.abspath(a) for a in argv[1:]] or None)[1] else 0
        if cmd == 'heap':
            ses = Session().start()
            try:
                print(heap_table(heap(ses)))
            finally:
                ses.stop()
            return 0
        if cmd == 'hex':
            print(build_hex(argv[1] if len(argv) > 1 else None))
            return 0
        if cmd == 'demo':
            out = boot_demo(argv[1] if len(argv) > 1 else None)
            print(out)
            return 0 if DEMO_END in out else 1
    except BoardError as e:
        print('microbit: %s' % e)
        return 2
    print('usage: python tools/microbit.py test [files...] | heap | hex [OUT] | demo [HEX]')
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

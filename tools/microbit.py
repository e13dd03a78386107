# The emulated BBC micro:bit (QEMU + Debian's MicroPython 1.9.2 firmware): boot it, put the flat sharedarea
# modules on it, measure heap, run the portable tests one function at a time (mprun's SKIP/FAIL/RESULT lines).
# Usage: python tools/microbit.py test [files...] | heap | shell
import ast
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tools'))
import flatten  # noqa: E402

FIRMWARE = os.environ.get('MICROBIT_FIRMWARE', '/usr/share/firmware-microbit-micropython/firmware.hex')
TESTS = os.path.join(ROOT, 'tests', 'portable')


class BoardError(Exception):
    pass


def check_tools():
    # a clear error for each missing piece, with the package that provides it
    if not shutil.which('qemu-system-arm'):
        raise BoardError('qemu-system-arm is missing (apt-get install qemu-system-arm)')
    if not os.path.exists(FIRMWARE):
        raise BoardError('the micro:bit firmware %s is missing (apt-get install firmware-microbit-micropython)'
                         % FIRMWARE)
    try:
        import mpremote.transport_serial  # noqa: F401
    except ImportError:
        raise BoardError('mpremote is missing (pip install mpremote)')


class Board:
    # one QEMU process running a micro:bit hex, its UART on a pty; stop() ends it by its pid
    def __init__(self, hexfile=FIRMWARE, timeout=15):
        check_tools()
        self.hexfile = hexfile
        self.timeout = timeout
        self.proc = None
        self.pty = None

    def start(self):
        logdir = os.path.join(ROOT, 'build', 'microbit')
        os.makedirs(logdir, exist_ok=True)
        self.log = os.path.join(logdir, 'qemu.log')
        with open(self.log, 'w') as out:
            self.proc = subprocess.Popen(
                ['qemu-system-arm', '-M', 'microbit', '-device', 'loader,file=' + self.hexfile,
                 '-nographic', '-serial', 'pty', '-monitor', 'none'],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        with open(os.path.join(logdir, 'qemu.pid'), 'w') as f:
            f.write('%d\n' % self.proc.pid)
        t0 = time.monotonic()
        while time.monotonic() - t0 < self.timeout:
            with open(self.log) as f:
                m = re.search(r'char device redirected to (/dev/pts/\d+)', f.read())
            if m:
                self.pty = m.group(1)
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        with open(self.log) as f:
            raise BoardError('QEMU did not offer a pty within %d s: %s' % (self.timeout, f.read().strip()))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class Repl:
    # the board's raw REPL through mpremote's serial transport
    def __init__(self, pty):
        from mpremote.transport_serial import SerialTransport
        self.t = SerialTransport(pty, 115200)
        self.t.serial.timeout = 10  # a read never blocks for ever when the UART dropped a byte
        self.resent = 0
        self.t.enter_raw_repl(soft_reset=True)

    def reset(self):
        # a soft reset: a fresh heap; the files stay
        self.t.exit_raw_repl()
        self.t.enter_raw_repl(soft_reset=True)

    def run(self, code, timeout=30):
        # (stdout, stderr) of code run on the board, as text. The firmware's UART drops bytes when they come
        # faster than it reads them, so the code goes in small slices (mpremote's exec sends 256 at once).
        t = self.t
        data = t.read_until(1, b'>')
        if not data.endswith(b'>'):
            raise BoardError('no raw REPL prompt: %r' % data[-80:])
        code = code.encode()
        for i in range(0, len(code), 32):
            t.serial.write(code[i:i + 32])
            time.sleep(0.003)
        t.serial.write(b'\x04')
        if t.serial.read(2) != b'OK':
            raise BoardError('the board did not take the code')
        out, err = t.follow(timeout)
        return out.decode('utf-8', 'replace').replace('\r\n', '\n'), err.decode('utf-8', 'replace')

    def ok(self, code):
        out, err = self.run(code)
        if err:
            raise BoardError('on the board: %s\n%s' % (code[:200], err.strip()))
        return out

    def put(self, name, data):
        # no `mpremote cp` here (the firmware has no os.stat): write through exec. The UART sometimes drops
        # a few bytes, so each chunk carries its length and sum and is sent again when they differ; f.write
        # may write less than asked at a flash chunk boundary, so the board loops; the size is checked last
        if isinstance(data, str):
            data = data.encode()
        self.ok("f=open(%r,'wb')\ndef w(d, n, s):\n if len(d) != n or sum(d) != s:\n  return 0\n"
                " while d:\n  d=d[f.write(d):]\n return 1" % name)
        for i in range(0, len(data), 96):
            ch = data[i:i + 96]
            for _ in range(5):
                out, err = self.run('print(w(%r, %d, %d))' % (ch, len(ch), sum(ch)))
                if out.strip() == '1' and not err:
                    break
                self.resent += 1
                sys.stderr.write("resend %s@%d: %r %r\n" % (name, i, out, err[-300:]))
            else:
                raise BoardError('%s: the board did not get the bytes at %d after 5 tries' % (name, i))
        self.ok('f.close()')
        got = int(self.ok('import os\nprint(os.size(%r))' % name))
        if got != len(data):
            raise BoardError('%s: wrote %d bytes, the board has %d' % (name, len(data), got))

    def close(self):
        try:
            self.t.exit_raw_repl()
        finally:
            self.t.close()


def strip_tests():
    # what the tests use of sa_testutil, for a board without threads, run in the REPL before each test (the
    # board's 14 KB filesystem has no room for it next to the library, nor its heap for all of it)
    return ("class SkipTest(Exception):\n pass\ndef skip(why):\n raise SkipTest(why)\n"
            "def need_threads():\n skip('needs threads (_thread): this port has none')\n"
            "run_threads = start_thread = lambda *a: need_threads()\n"
            "def raises(exc, fn, *args):\n try:\n  fn(*args)\n except exc as e:\n  return e\n"
            " raise AssertionError('did not raise %s' % exc)\n"
            "import time\nsleep_ms = time.sleep_ms\nticks_ms = time.ticks_ms\n")


# not sent: sa_ops (this firmware has no bytearray slice assignment, so the core takes sa_opsix) and sa_funcs
# (the sharedarea_* names: 1.9 KB that the board's ~14 KB filesystem and 9 KB heap cannot spare next to the rest)
BOARD_SKIP = ('sa_ops', 'sa_funcs')


def install(repl, extra=()):
    # removes every file, then writes the flat modules (plus extra (name, text) pairs)
    repl.ok('import os\nfor n in os.listdir():\n os.remove(n)')
    for flat, path in flatten.build():
        if flat in BOARD_SKIP:
            continue
        with open(path) as f:
            repl.put(flat + '.py', f.read())
    for name, text in extra:
        repl.put(name, text)
    repl.reset()


HEAP = '''import gc
gc.collect()
f0 = gc.mem_free()
%s
gc.collect()
print(f0 - gc.mem_free(), gc.mem_free())'''


def heap(repl):
    # [(what, bytes it took, heap left)], each row measured after a soft reset and the rows before it
    steps = (('boot (nothing imported)', 'pass'),
             ('import sa_opsix (reads, writes)', 'import sa_opsix'),
             ('import sa_area (SharedArea)', 'import sa_area'),
             ('import sa_irq (port memory + irq sync)', 'import sa_irq'),
             ('import sa_port', 'import sa_port'),
             ('import sharedarea (add, get, close)', 'import sharedarea'),
             ('add(1) (one 256-byte page) + write/read', "a = sharedarea.get(sharedarea.add(1))\na.write(0, b'hi')\na.read(0, 2)"),
             ("add('size=256') (loads sa_spec)", "b = sharedarea.get(sharedarea.add('size=256'))"),
             ('inc8/read16/write32/dec64 first use (sa_more)', 'a.inc8(0)\na.read16(0)\na.write32(4, 7)\na.dec64(8)'),
             ('wlock/unlock/wait first use (sa_extra, sa_base)', 'a.wlock()\na.unlock()\na.wait(10, 0.01)'))
    rows = []
    done = []
    repl.reset()
    for what, code in steps:
        out, err = repl.run(HEAP % code)
        if err:
            rows.append((what, None, err.strip().splitlines()[-1]))
            continue
        out = out.split()
        rows.append((what, int(out[-2]), int(out[-1])))
    # the modules loaded on first use, each right after `import sharedarea` in a fresh heap
    for mod in ('sa_spec', 'sa_more', 'sa_errs', 'sa_extra', 'sa_base', 'sa_bufs'):
        repl.reset()
        repl.run('import sharedarea')
        out, err = repl.run(HEAP % ('import ' + mod))
        what = 'import %s right after sharedarea' % mod
        rows.append((what, None, err.strip().splitlines()[-1]) if err else (what, int(out.split()[-2]), int(out.split()[-1])))
    # each on its own in a fresh heap: what it costs where it fits
    for mod in ('sa_spec', 'sa_more', 'sa_errs', 'sa_extra', 'sa_base', 'sa_bufs'):
        repl.reset()
        out, err = repl.run(HEAP % ('import ' + mod))
        what = 'import %s alone' % mod
        rows.append((what, None, err.strip().splitlines()[-1]) if err else (what, int(out.split()[-2]), int(out.split()[-1])))
    return rows


# the harness each test function runs in: mprun's lines, one function at a time
CALL = '''try:
 %s()
 print('PASS')
except Exception as e:
 if isinstance(e, SkipTest):
  print('SKIP %s.%s: %%s' %% e)
 else:
  print('FAIL %s.%s')
  import sys
  sys.print_exception(e)'''


def split_tests(path):
    # (prelude source, [(test name, source)]) of a portable test module
    with open(path) as f:
        src = f.read()
    lines = src.splitlines()
    tree = ast.parse(src)
    pre, tests = [], []
    for node in tree.body:
        start = node.lineno - 1 - len(getattr(node, 'decorator_list', []))
        text = '\n'.join(lines[start:node.end_lineno])
        if isinstance(node, ast.FunctionDef) and node.name.startswith('test_'):
            tests.append((node.name, flatten.strip(text)))
        else:
            pre.append(text)
    pre = re.sub(r'(?m)^from sa_testutil import .*$', '', '\n'.join(pre))  # its names are already there
    return flatten.strip(pre), tests


def run_file(repl, path, board=None):
    # runs a test module on the board; returns (passed, failed, skipped) and prints mprun's lines
    mod = os.path.basename(path)[:-3]
    pre, tests = split_tests(path)
    util = strip_tests()
    p = f = s = 0
    for name, text in tests:
        try:
            repl.reset()
            # the library first, into the fresh heap (it is what fragments the heap least that way)
            out, err = repl.run('import sharedarea')
            if not err:
                out, err = repl.run(util)
            if not err:
                out, err = repl.run(pre)
            if not err:
                out, err = repl.run(text + '\n' + CALL % (name, mod, name, mod, name), timeout=60)
        except Exception as e:  # the board hung or died: that test fails, the board is restarted
            out, err = '', 'board did not answer: %s' % e
            if board:
                repl = board.restart()
        if 'MemoryError' in err:
            # the capability this board lacks is heap: the test (or what it loads) does not fit in ~9 KB
            print('SKIP %s.%s: needs more heap than the micro:bit has (%s)' % (mod, name, err.strip().splitlines()[-1]))
            s += 1
        elif err:
            print('FAIL %s.%s' % (mod, name))
            print(err.rstrip())
            f += 1
        elif out.startswith('PASS'):
            p += 1
        elif out.startswith('SKIP'):
            print(out.rstrip())
            s += 1
        else:
            print(out.rstrip())
            f += 1
    print('RESULT %s %d %d %d' % (mod, p, f, s))
    return p, f, s, repl


class Session:
    # a booted board with the library and the test helpers installed; restart() after a hang
    def __init__(self):
        self.board = None
        self.repl = None

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


# What does fit on the board, checked on it before the portable files: the import, a one-page area (no spec
# string: its parser does not fit), bytes and a str written and read back, reads to the end. One chunk of
# code after the import: a second one finds no heap block big enough to compile in.
SMOKE = (("import sharedarea", ''),
         ("a=sharedarea.get(sharedarea.add(1))\na.write(250,b'hello!')\na.write(0,'hi')\n"
          "print(sharedarea.PAGE_SIZE,a.id,a.size,a.read(250,6),a.read(254),a.read(0,3))",
          "256 0 256 b'hello!' b'o!' b'hi\\x00'"))


def smoke(repl):
    # (passed, failed) of the SMOKE steps, in one fresh heap
    repl.reset()
    p = f = 0
    for code, want in SMOKE:
        out, err = repl.run(code)
        if err or out.strip() != want:
            print('FAIL board.smoke: %s\n  wanted %r, got %r %s' % (code.replace('\n', '; '), want, out.strip(), err.strip()))
            f += 1
        else:
            p += 1
    print('RESULT board_smoke %d %d 0' % (p, f))
    return p, f


def run_tests(files=None):
    # the function a generic device runner calls: boots the board, runs the files, stops it;
    # returns (passed, failed, skipped) and prints the closing line
    files = files or sorted(os.path.join(TESTS, n) for n in os.listdir(TESTS) if n.startswith('test_'))
    tp = tf = ts = 0
    ses = Session()
    try:
        ses.start()
        repl = ses.repl
        tp, tf = smoke(repl)
        for path in files:
            t0 = time.monotonic()
            p, f, s, repl = run_file(repl, path, ses)
            tp, tf, ts = tp + p, tf + f, ts + s
            print('%-28s %3d passed, %d failed, %d skipped  (%.1f s)' % (os.path.basename(path)[:-3], p, f, s,
                                                                        time.monotonic() - t0))
    finally:
        ses.stop()
    print('microbit: %d passed, %d failed, %d skipped' % (tp, tf, ts))
    return tp, tf, ts


def main(argv):
    cmd = argv[0] if argv else 'test'
    try:
        if cmd == 'test':
            return 1 if run_tests([os.path.abspath(a) for a in argv[1:]])[1] else 0
        if cmd == 'heap':
            ses = Session().start()
            try:
                rows = heap(ses.repl)
            finally:
                ses.stop()
            print('| step on the emulated micro:bit | heap it took (bytes) | heap left (bytes) |')
            print('|---|---|---|')
            for what, used, left in rows:
                print('| %s | %s | %s |' % (what, '-' if used is None else used, left))
            return 0
    except BoardError as e:
        print('microbit: %s' % e)
        return 2
    print(__doc__ if __doc__ else 'usage: microbit.py test [files...] | heap')
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

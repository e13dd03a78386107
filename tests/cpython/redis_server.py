# A real redis-server for the tests, on a free loopback port, that a test can stop (SIGSTOP), resume, kill
# and restart. Without redis-server the tests skip naming it; with CI=true they fail instead.
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

EXE = shutil.which('redis-server')
# redis= areas do not use the port (nor its compiled fast path): `make test-pure` need not run them again
not_pure = pytest.mark.skipif(os.environ.get('SHAREDAREA_PURE', '') not in ('', '0'),
                              reason='redis= areas do not use the fast path: they run once, in make test-cpython')


def need_redis():
    # redis-server and redis-py, or a skip (a failure in CI) that names what is missing
    why = None
    if not EXE:
        why = 'needs redis-server (Debian: apt-get install redis-server)'
    else:
        try:
            import redis  # noqa: F401
        except ImportError:
            why = 'needs redis-py (pip install "sharedarea[redis]")'
    if why:
        if os.environ.get('CI', '').lower() in ('1', 'true', 'yes'):
            pytest.fail(why + ' (CI=true: the Redis tests must run)')
        pytest.skip(why)


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Server:
    """One redis-server process; start() waits until it answers PING."""

    def __init__(self, persist=False):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix='sa-redis-')
        self.persist = persist
        self.proc = None

    @property
    def addr(self):
        return '127.0.0.1:%d' % self.port

    def start(self):
        args = [EXE, '--port', str(self.port), '--bind', '127.0.0.1', '--appendonly', 'no', '--dir', self.dir,
                '--save', '3600 1' if self.persist else '']
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        end = time.monotonic() + 10
        while time.monotonic() < end:
            try:
                with socket.create_connection(('127.0.0.1', self.port), 0.2) as s:
                    s.sendall(b'PING\r\n')
                    if s.recv(16).startswith(b'+PONG'):
                        return self
            except OSError:
                time.sleep(0.01)
        raise AssertionError('redis-server on port %d did not answer in 10 s' % self.port)

    def cmd(self, *args):
        import redis
        return redis.Redis(port=self.port, socket_timeout=5).execute_command(*args)

    def pause(self):
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        self.proc.send_signal(signal.SIGCONT)

    def stop(self, save=False):
        # save: SHUTDOWN SAVE (the data survives a restart); else SIGKILL (all is lost, as in a crash)
        if self.proc is None:
            return
        self.resume()
        if save:
            try:
                self.cmd('SHUTDOWN', 'SAVE')
            except Exception:
                pass  # (the connection closes as it shuts down)
        else:
            self.proc.kill()
        self.proc.wait(10)
        self.proc = None

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


_shared = {}


def shared():
    # one server for the tests of this process that do not stop it (started on first use, killed at exit)
    need_redis()
    s = _shared.get('s')
    if s is None or s.proc is None:
        s = _shared['s'] = Server().start()
        import atexit
        atexit.register(s.close)
    return s

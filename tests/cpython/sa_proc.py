# Helpers the CPython-only tests share: run a function in a forked child, and wait for it with a limit.
import os
import signal
import time


def fork(fn):
    # the child runs fn() and exits 0, or 1 if it raised
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            fn()
            code = 0
        finally:
            os._exit(code)
    return pid


def join(pid, timeout=60):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.005)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    raise AssertionError('child %d did not finish in %d s' % (pid, timeout))

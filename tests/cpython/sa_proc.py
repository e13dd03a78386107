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


def kill_holder(take, reap=True):
    # fork a child that calls take() (e.g. area.wlock), says so, and sleeps; SIGKILL it once it holds.
    # Returns the pid; with reap=False the dead child is left a zombie for the caller to reap.
    r, w = os.pipe()

    def child():
        take()
        os.write(w, b'x')
        time.sleep(60)
    pid = fork(child)
    try:
        assert os.read(r, 1) == b'x'
    finally:
        os.close(r)
        os.close(w)
    os.kill(pid, signal.SIGKILL)
    if reap:
        os.waitpid(pid, 0)
    return pid

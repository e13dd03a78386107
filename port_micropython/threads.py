# Locking on MicroPython ports with _thread (rp2, esp32, unix): one mutex per area guards each op. wlock
# takes it and keeps it (owner + depth, so the holder's own ops and a second wlock nest); rlock only counts
# readers, and writers wait for them to leave. wait() with no timeout sleeps on a lock the next update
# releases.
import time

import _thread

from ..area import fail
from . import Mem as _One

REGISTRY_LOCK = _thread.allocate_lock()


class Mem(_One):
    def __init__(self, *a):
        _One.__init__(self, *a)
        self._m = _thread.allocate_lock()
        self._own = None
        self._d = 0
        self._rd = {}
        self._ws = None  # locks of threads waiting forever, released by bump()

    def bump(self):
        # called inside an op; allocates nothing unless a thread waits forever
        _One.bump(self)
        if self._ws:
            for lk in self._ws:
                lk.release()
            self._ws = None

    def wait(self, freq, timeout):
        if timeout:
            from .one import wait
            return wait(self, freq, timeout)
        n0 = self._n
        lk = _thread.allocate_lock()
        lk.acquire()
        self.w()
        try:
            if self._n != n0:
                return True
            if self._ws is None:
                self._ws = []
            self._ws.append(lk)
        finally:
            self.done(0)
        lk.acquire()  # released by the next bump()
        return True

    def _mine(self):
        o = self._own
        return o is not None and o == _thread.get_ident()

    def r(self):
        if self._mine():
            self._d += 1
            return
        self._m.acquire()
        self._own = _thread.get_ident()
        self._d = 1

    def w(self):
        if self._mine():
            self._d += 1
            return
        me = _thread.get_ident()
        while True:
            self._m.acquire()
            if not self._rd:
                break
            self._m.release()
            if me in self._rd:
                fail('rlocked')
            time.sleep_ms(1)
        self._own = me
        self._d = 1

    def done(self, token=None):
        self._d -= 1
        if not self._d:
            self._own = None
            self._m.release()

    wl = w

    def rl(self):
        if self._mine():
            self._d += 1
            return
        me = _thread.get_ident()
        self._m.acquire()
        self._rd[me] = self._rd.get(me, 0) + 1
        self._m.release()

    def end(self):
        if self._mine():
            self.done()
            return True
        me = _thread.get_ident()
        self._m.acquire()
        d = self._rd.get(me, 0)
        if d > 1:
            self._rd[me] = d - 1
        elif d:
            del self._rd[me]
        self._m.release()
        return d > 0

# Locking on MicroPython ports with _thread (rp2, esp32, unix): one mutex per area guards each op. wlock
# takes it and keeps it (owner + depth, so the holder's own ops and a second wlock nest); rlock only counts
# readers, and writers wait for them to leave.
import time

import _thread

from ..area import SharedAreaError
from . import _Base


class _Sync(_Base):
    def __init__(self):
        _Base.__init__(self)
        self._m = _thread.allocate_lock()
        self._own = None
        self._d = 0
        self._rd = {}

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
                raise SharedAreaError('this thread holds rlock on the area; a write needs wlock (unlock first)')
            time.sleep_ms(1)
        self._own = me
        self._d = 1

    def done(self):
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

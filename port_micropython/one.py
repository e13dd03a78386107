# The single-thread sync's parts for locks and waiting (see Mem in __init__.py): plain functions, put
# on it (One) when this loads, with the part locks or extra.
import time

from ..area import fail
from . import One


def wait(self, freq, timeout):
    # polls the counter at freq; True once it moves, False at the timeout (0: none)
    n0 = self._n
    t0 = time.ticks_ms()
    ms = int(timeout * 1000)
    while self._n == n0:
        left = ms - time.ticks_diff(time.ticks_ms(), t0) if timeout else freq
        if left <= 0:
            return False
        time.sleep_ms(min(int(freq), left) or 1)
    return True


def wl(self):
    self._wd += 1


def rl(self):
    self._rd += 1


def w(self):
    if self._rd and not self._wd:
        fail('rlocked')
    return self.r()


def end(self):
    # the innermost hold is not recorded on one thread; wlock's count goes first
    if self._wd:
        self._wd -= 1
    elif self._rd:
        self._rd -= 1
    else:
        return False
    return True


One.w, One.end, One.rl, One.wl, One.wait = w, end, rl, wl, wait

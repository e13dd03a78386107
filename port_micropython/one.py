# The single-thread sync's parts used less often (see Mem in __init__.py): wait() and the lock counts.
# Plain functions, put on Mem by load() with the parts locks and extra.
import time


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

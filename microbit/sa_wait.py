# The part wait of the micro:bit edition of sharedarea (sharedarea.load('wait')): update() and wait(), which
# polls the update counter (one thread: an interrupt handler's ops update it). load() puts Wait's methods on
# SharedArea.
from utime import sleep_ms, ticks_diff, ticks_ms

from sa_area import _INT, SharedAreaError


class Wait:
    def update(self):
        """Bumps the update counter."""
        self._chk(0, 0, True)
        self._n = (self._n + 1) & 0x3FFFFFFF

    def wait(self, freq=100, timeout=0, since=None):
        """True once the counter differs from since (None: its value now); False after timeout s (0: none)."""
        self._chk(0, 0)
        for what, v in (('freq', freq), ('timeout', timeout)):
            if type(v) is not int and type(v) is not float:
                raise TypeError('%s must be a number, not %s' % (what, type(v)))
        if not freq > 0 or not timeout >= 0:  # written so that NaN is refused too
            raise SharedAreaError('sharedarea %d: freq must be > 0 and timeout >= 0' % self.id)
        if since is not None and type(since) is not int:
            raise TypeError(_INT % ('since', type(since)))
        n = self._n if since is None else since
        t = ticks_ms()
        while self._n == n:
            left = timeout * 1000 - ticks_diff(ticks_ms(), t) if timeout else freq
            if left <= 0:
                return False
            sleep_ms(int(min(freq, left)) or 1)
            self._chk(0, 0)  # closed meanwhile, by an interrupt handler
        return True

# The part extra of the micro:bit edition of sharedarea (sharedarea.load('extra')): wait, readfast, object
# and memoryview (which says it is missing). load() puts Extra's methods on SharedArea.
from machine import disable_irq, enable_irq
from utime import sleep_ms, ticks_diff, ticks_ms

from sa_area import SharedAreaError


class Extra:
    def memoryview(self):
        """Not here: this firmware has no memoryview."""
        self._chk(0, 0)
        raise SharedAreaError('memoryview() needs memoryview, which the micro:bit edition does not have')

    def object(self):
        """The bytearray the area was made from."""
        self._chk(0, 0)
        if self._obj is None:
            raise SharedAreaError('sharedarea %d was not made from a buffer: no object() to return' % self.id)
        return self._obj

    def readfast(self, pos, buf, length=0):
        """Copies into buf (length 0: as many bytes as fit); returns how many."""
        if type(buf) is not bytearray:
            raise TypeError('readfast() copies into a bytearray here (micro:bit edition), not %s' % type(buf))
        n = len(buf)
        if type(length) is int and not 0 <= length <= n:
            raise SharedAreaError('sharedarea %d: length %d is not in 0..%d (the buffer size)' % (self.id, length, n))
        if length == 0 and type(pos) is int:
            length = min(n, self.size - pos)
        o = self._chk(pos, length)
        b = self._b
        s = disable_irq()
        for i in range(length):
            buf[i] = b[o + i]
        enable_irq(s)
        return length

    def wait(self, freq=100, timeout=0, since=None):
        """True once the counter differs from since (None: its value now); False after timeout s (0: none)."""
        self._chk(0, 0)
        if not isinstance(freq, (int, float)) or not isinstance(timeout, (int, float)):
            raise TypeError('freq and timeout must be numbers')
        if not freq > 0 or not timeout >= 0:  # written so that NaN is refused too
            raise SharedAreaError('sharedarea %d: freq must be > 0 and timeout >= 0' % self.id)
        n = self._n if since is None else since
        t = ticks_ms()
        while self._n == n:
            left = timeout * 1000 - ticks_diff(ticks_ms(), t) if timeout else freq
            if left <= 0:
                return False
            sleep_ms(int(min(freq, left)) or 1)
            self._chk(0, 0)  # closed meanwhile, by an interrupt handler
        return True

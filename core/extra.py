# The part extra: SharedArea's methods used less often (readfast, waiting, the update counter, zero-copy
# access), plain functions that sharedarea.load() puts on the class.
from .area import fail

METHODS = ('readfast', 'wait', 'update', 'memoryview', 'object')

try:
    _view = memoryview  # (the method below takes the name)
except NameError:
    _view = None  # the micro:bit has no memoryview


def _flat(data):
    # a bytes-like object counts by its bytes: array('H') or a 2-D view is seen as flat unsigned bytes
    # (where memoryview can cast; MicroPython's cannot, and its writes take the object as it is)
    try:
        return _view(data).cast('B')
    except (TypeError, AttributeError):
        return data  # not a buffer, not contiguous, or no cast here: len() and the copy decide


def readfast(self, pos, buf, length=0):
    # copies into buf; length 0: as many as fit
    n = len(buf)
    if type(length) is not int:
        fail('int', 'length', length)
    if not 0 <= length <= n:
        fail('readfast', self.id, length, n)
    if not length and type(pos) is int:
        length = min(n, self.size - pos)
    b = self._chk(pos, length)
    s = self._s
    t = s.r()
    try:
        if self._ix:
            for i in range(length):
                buf[i] = b[pos + i]
        else:
            _view(buf)[0:length] = b[pos:pos + length]
    finally:
        s.done(t)
    return length


def wait(self, freq=100, timeout=0):
    self._chk(0, 0)
    s = self._s
    if not isinstance(freq, (int, float)) or not isinstance(timeout, (int, float)):
        fail('numbers')
    if not freq > 0 or not timeout >= 0:  # written so that NaN is refused too
        fail('freq', self.id)
    return s.wait(freq, timeout)


def update(self):
    self._chk(0, 0)
    s = self._s
    t = s.w()
    try:
        s.bump()
    finally:
        s.done(t)


def memoryview(self):
    self._chk(0, 0)
    if _view is None:
        fail('noview')
    return _view(self._b)


def object(self):
    self._chk(0, 0)
    o = self._mem.obj
    if o is None:
        fail('noobject', self.id)
    return o

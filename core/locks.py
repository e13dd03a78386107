# The part locks: SharedArea's rlock, wlock, unlock and the with-form, plain functions that
# sharedarea.load() puts on the class.
from .area import fail

METHODS = ('rlock', 'wlock', 'unlock', '__enter__', '__exit__')


def rlock(self):
    return _lock(self, 'rl')


def wlock(self):
    return _lock(self, 'wl')


def _lock(self, how):
    self._chk(0, 0)
    getattr(self._s, how)()
    # closed by another thread while this one waited: let go, or the hold would outlive the area
    if self._b is None:
        self._s.end()
        self._chk(0, 0)
    return self


def unlock(self):
    self._chk(0, 0)
    if not self._s.end():
        fail('unlock', self.id)


def __enter__(self):
    return self


def __exit__(self, *exc):
    self.unlock()

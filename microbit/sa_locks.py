# The part locks of the micro:bit edition of sharedarea (sharedarea.load('locks')): rlock, wlock, unlock
# and `with area.wlock():`, on one thread. load() puts Locks' methods on SharedArea.
from sa_area import SharedAreaError


class Locks:
    def rlock(self):
        """A shared lock until unlock(); on one thread it keeps this thread's writes out."""
        self._chk(0, 0)
        self._r += 1
        return self

    def wlock(self):
        """The exclusive lock until unlock(); nests for its holder."""
        self._chk(0, 0)
        self._w += 1
        return self

    def unlock(self):
        """Drops the innermost lock (wlock's first)."""
        self._chk(0, 0)
        if self._w:
            self._w -= 1
        elif self._r:
            self._r -= 1
        else:
            raise SharedAreaError('sharedarea %d: unlock() without a lock held by this thread' % self.id)

    def __enter__(self):
        """`with area.wlock():` (wlock() returns the area)."""
        return self

    def __exit__(self, *exc):
        """Unlocks at the end of the with block, also on an error."""
        self.unlock()

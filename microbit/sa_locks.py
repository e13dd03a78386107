# The part locks of the micro:bit edition of sharedarea (sharedarea.load('locks')): rlock, wlock, unlock and
# the with-forms (`with area.wlock():` unlocks, `with area:` closes), on one thread. load() puts Locks'
# methods on SharedArea.
from sa_area import SharedAreaError


class Held:
    # what rlock() and wlock() return: `with area.wlock():` gives the area and unlocks on exit (no
    # __init__: the lock sets area, one function less on this heap)
    def __enter__(self):
        return self.area

    def __exit__(self, *exc):
        self.area.unlock()


class Locks:
    def rlock(self):
        """A shared lock until unlock(); on one thread it keeps this thread's writes out."""
        self._chk(0, 0)
        self._r += 1
        h = Held()
        h.area = self
        return h

    def wlock(self):
        """The exclusive lock until unlock(); nests for its holder (not under its rlock: no upgrade)."""
        self._chk(0, 0, True)
        self._w += 1
        h = Held()
        h.area = self
        return h

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
        """`with area:` gives the area ..."""
        return self

    def __exit__(self, *exc):
        """... and closes it on exit, as files and mmap do."""
        self.close()

# The SharedArea object: every operation of the contract, with its checks and messages, the same on
# every runtime. Memory, locking and waiting come from the port (docs/ports.md); nothing here is port-specific.
from struct import pack_into, unpack_from


class SharedAreaError(ValueError):
    """A sharedarea that does not exist or is closed, a position or length outside it, or a bad spec."""


# struct formats of the unsigned integers, by width in bytes (8 and 16 bits go byte by byte: no allocation)
_UNSIGNED = {4: '<I', 8: '<Q'}


def _type_error(what, value):
    raise TypeError('%s must be an int, not %s' % (what, type(value).__name__))


def _fit(value, w, what):
    # values and amounts of w bytes: -2**(n-1) <= value < 2**n, stored modulo 2**n
    if type(value) is not int:
        _type_error(what, value)
    n = w * 8
    if not -(1 << (n - 1)) <= value < 1 << n:
        raise OverflowError('%s %d does not fit in %d bits (%d..%d)' % (what, value, n, -(1 << (n - 1)), (1 << n) - 1))


def _bytes_of(data):
    # what write() stores: the bytes of any bytes-like object (a str as UTF-8); an array counts by its bytes
    t = type(data)
    if t is bytes or t is bytearray:
        return data
    if t is str:
        return data.encode('utf-8')
    try:
        view = memoryview(data)
    except TypeError:
        raise TypeError('write() takes bytes, bytearray, memoryview, str or another buffer, not %s' % t.__name__)
    try:
        return view.cast('B')  # CPython: array('H') or a 2-D view is seen as its flat bytes
    except (AttributeError, TypeError):
        return view  # MicroPython's views have no cast, and count bytes already where it matters


class _Held:
    # what rlock() and wlock() return: `with area.wlock(): ...` unlocks on exit
    def __init__(self, area):
        self.area = area

    def __enter__(self):
        return self.area

    def __exit__(self, *exc):
        self.area.unlock()


class SharedArea:
    """Memory shared between threads, processes and interrupt handlers, with atomic ops, locks and waits."""

    _buf = None  # None once closed (class default: a half-made area closes fine)

    def __init__(self, id, memory, fast_methods=None):
        self.id = id
        self.size = memory.size
        self.kind = memory.kind
        self._mem = memory
        self._sync = memory.sync
        self._buf = memory.buf
        self._held = _Held(self)
        self._fast = fast_methods and fast_methods(self) or {}
        for name in self._fast:  # a port's compiled versions of hot methods, same behaviour (docs/ports.md)
            setattr(self, name, self._fast[name])

    def __repr__(self):
        return '<SharedArea id=%d size=%d %s%s>' % (self.id, self.size, self.kind,
                                                   ' closed' if self._buf is None else '')

    # -- checks -------------------------------------------------------------------------------------

    def _check(self, pos, n):
        """The buffer, once the area is open and pos..pos+n lies inside it; else the error."""
        b = self._buf
        if b is None or type(pos) is not int or not 0 <= pos < self.size or n > self.size - pos:
            self._refuse(pos, n)
        return b

    def _refuse(self, pos, n):
        # which part of _check's condition failed, as the error it is
        if self._buf is None:
            raise SharedAreaError('sharedarea %d is closed' % self.id)
        if type(pos) is not int:
            _type_error('pos', pos)
        if not 0 <= pos < self.size:
            raise SharedAreaError('sharedarea %d: pos %d is outside 0..%d' % (self.id, pos, self.size - 1))
        raise SharedAreaError('sharedarea %d: %d bytes at pos %d cross the end (size %d)' % (self.id, n, pos, self.size))

    def _length(self, pos, length, limit):
        # length 0 means as many as fit (up to limit)
        if type(length) is not int:
            _type_error('length', length)
        if length < 0:
            raise SharedAreaError('sharedarea %d: length %d is negative' % (self.id, length))
        if not length and type(pos) is int:
            length = min(limit, self.size - pos)
        return length

    def _into(self, pos, buf, length):
        # readfast's target as flat bytes, and how many to copy into it (0: as many as fit)
        try:
            view = memoryview(buf)
        except TypeError:
            raise TypeError('readfast() needs a writable buffer, not %s' % type(buf).__name__)
        try:
            view = view.cast('B')
        except (AttributeError, TypeError):
            pass  # MicroPython: no cast
        n = len(view)
        if type(length) is int and not 0 <= length <= n:
            raise SharedAreaError('sharedarea %d: length %d is not in 0..%d (the buffer size)' % (self.id, length, n))
        return view, self._length(pos, length, n)

    # -- bytes --------------------------------------------------------------------------------------

    def read(self, pos, length=0):
        """The bytes at pos (length 0: to the end)."""
        length = self._length(pos, length, self.size)
        b = self._check(pos, length)
        s = self._sync
        s.enter_read()
        try:
            return bytes(b[pos:pos + length])
        finally:
            s.leave()

    def write(self, pos, data):
        """Stores data (any bytes-like object; a str as UTF-8) at pos."""
        data = _bytes_of(data)
        n = len(data)
        b = self._check(pos, n)
        s = self._sync
        s.enter_write()
        try:
            b[pos:pos + n] = data
            s.bump()
        finally:
            s.leave()

    def readfast(self, pos, buf, length=0):
        """Copies the bytes at pos into buf (no new object); returns how many (length 0: as many as fit)."""
        view, length = self._into(pos, buf, length)
        b = self._check(pos, length)
        s = self._sync
        s.enter_read()
        try:
            view[0:length] = b[pos:pos + length]
        finally:
            s.leave()
        return length

    # -- integers: little-endian two's complement of 1, 2, 4, 8 bytes at any offset ------------------

    def _get(self, pos, w):
        b = self._check(pos, w)
        s = self._sync
        s.enter_read()
        try:
            if w < 4:
                v = b[pos] if w == 1 else b[pos] | b[pos + 1] << 8
            else:
                v = unpack_from(_UNSIGNED[w], b, pos)[0]
        finally:
            s.leave()
        return v - (v >> (w * 8 - 1) << w * 8)

    def _put(self, pos, w, value, add):
        # stores value (add False) or adds it to what is there (add True); returns the new value, signed
        b = self._check(pos, w)
        s = self._sync
        s.enter_write()
        try:
            if add:
                if w < 4:
                    v = b[pos] if w == 1 else b[pos] | b[pos + 1] << 8
                else:
                    v = unpack_from(_UNSIGNED[w], b, pos)[0]
                value += v
            value &= (1 << w * 8) - 1
            if w < 4:
                b[pos] = value & 255
                if w == 2:
                    b[pos + 1] = value >> 8
            else:
                pack_into(_UNSIGNED[w], b, pos, value)
            s.bump()
        finally:
            s.leave()
        return value - (value >> (w * 8 - 1) << w * 8)

    def read8(self, pos):
        """The signed 8-bit integer at pos."""
        return self._get(pos, 1)

    def read16(self, pos):
        """The signed 16-bit integer at pos."""
        return self._get(pos, 2)

    def read32(self, pos):
        """The signed 32-bit integer at pos."""
        return self._get(pos, 4)

    def read64(self, pos):
        """The signed 64-bit integer at pos."""
        return self._get(pos, 8)

    def write8(self, pos, value):
        """Stores value (-128..255) as 8 bits at pos."""
        _fit(value, 1, 'value')
        self._put(pos, 1, value, False)

    def write16(self, pos, value):
        """Stores value (-2**15..2**16-1) as 16 bits at pos."""
        _fit(value, 2, 'value')
        self._put(pos, 2, value, False)

    def write32(self, pos, value):
        """Stores value (-2**31..2**32-1) as 32 bits at pos."""
        _fit(value, 4, 'value')
        self._put(pos, 4, value, False)

    def write64(self, pos, value):
        """Stores value (-2**63..2**64-1) as 64 bits at pos."""
        _fit(value, 8, 'value')
        self._put(pos, 8, value, False)

    def inc8(self, pos, amount=1):
        """Adds amount to the 8-bit integer at pos; returns the new value (wraps around)."""
        _fit(amount, 1, 'amount')
        return self._put(pos, 1, amount, True)

    def inc16(self, pos, amount=1):
        """Adds amount to the 16-bit integer at pos; returns the new value (wraps around)."""
        _fit(amount, 2, 'amount')
        return self._put(pos, 2, amount, True)

    def inc32(self, pos, amount=1):
        """Adds amount to the 32-bit integer at pos; returns the new value (wraps around)."""
        _fit(amount, 4, 'amount')
        return self._put(pos, 4, amount, True)

    def inc64(self, pos, amount=1):
        """Adds amount to the 64-bit integer at pos; returns the new value (wraps around)."""
        _fit(amount, 8, 'amount')
        return self._put(pos, 8, amount, True)

    def dec8(self, pos, amount=1):
        """Subtracts amount from the 8-bit integer at pos; returns the new value (wraps around)."""
        _fit(amount, 1, 'amount')
        return self._put(pos, 1, -amount, True)

    def dec16(self, pos, amount=1):
        """Subtracts amount from the 16-bit integer at pos; returns the new value (wraps around)."""
        _fit(amount, 2, 'amount')
        return self._put(pos, 2, -amount, True)

    def dec32(self, pos, amount=1):
        """Subtracts amount from the 32-bit integer at pos; returns the new value (wraps around)."""
        _fit(amount, 4, 'amount')
        return self._put(pos, 4, -amount, True)

    def dec64(self, pos, amount=1):
        """Subtracts amount from the 64-bit integer at pos; returns the new value (wraps around)."""
        _fit(amount, 8, 'amount')
        return self._put(pos, 8, -amount, True)

    # -- locks --------------------------------------------------------------------------------------

    def rlock(self):
        """Takes the shared (read) lock; nests for its holder. `with area.rlock():` unlocks on exit."""
        self._check(0, 0)
        s = self._sync
        s.lock_read()
        self._closed_meanwhile(s)
        return self._held

    def wlock(self):
        """Takes the exclusive (write) lock; nests for its holder. `with area.wlock():` unlocks on exit."""
        self._check(0, 0)
        s = self._sync
        s.lock_write()
        self._closed_meanwhile(s)
        return self._held

    def _closed_meanwhile(self, s):
        # closed by another thread while this one waited for the lock: let go, or the hold would outlive the area
        if self._buf is None:
            s.unlock()
            self._check(0, 0)

    def unlock(self):
        """Lets go of this thread's innermost rlock or wlock."""
        self._check(0, 0)
        if not self._sync.unlock():
            raise SharedAreaError('sharedarea %d: unlock() without a lock held by this thread' % self.id)

    # -- updates ------------------------------------------------------------------------------------

    @property
    def updates(self):
        """The update counter: every write, inc, dec and update() adds one."""
        self._check(0, 0)
        return self._sync.count()

    def update(self):
        """Adds one to the update counter (after writing through memoryview()), waking waiters."""
        self._check(0, 0)
        s = self._sync
        s.enter_write()
        try:
            s.bump()
        finally:
            s.leave()

    def wait(self, freq=100, timeout=0, since=None):
        """Blocks until the area is updated (or, with since, until updates != since); False at timeout (s, 0: none)."""
        self._check(0, 0)
        for what, v in (('freq', freq), ('timeout', timeout)):
            if type(v) is not int and type(v) is not float:
                raise TypeError('%s must be a number, not %s' % (what, type(v).__name__))
        if not freq > 0 or not timeout >= 0:  # written so that NaN is refused too
            raise SharedAreaError('sharedarea %d: freq must be > 0 and timeout >= 0' % self.id)
        if since is not None and type(since) is not int:
            _type_error('since', since)
        return self._wait_for(freq, timeout, since)

    def _wait_for(self, freq, timeout, since):
        # the wait itself, once the arguments are checked: the port's (an area kept elsewhere has its own)
        return self._sync.wait(freq, timeout, since)

    async def changed(self, since=None, timeout=None):
        """Awaits an update (or updates != since); the new update count, or False at timeout (s)."""
        from .aio import changed
        return await changed(self, since, timeout)

    # -- zero-copy access ---------------------------------------------------------------------------

    def memoryview(self):
        """A writable view of the area's bytes (call update() after writing through it)."""
        b = self._check(0, 0)
        try:
            return memoryview(b)
        except NameError:
            raise SharedAreaError('memoryview() needs memoryview, which this port does not have')

    def object(self):
        """The buffer this area was made from."""
        self._check(0, 0)
        o = self._mem.obj
        if o is None:
            raise SharedAreaError('sharedarea %d was not made from a buffer: no object() to return' % self.id)
        return o

    # -- life ---------------------------------------------------------------------------------------

    def close(self):
        """Releases the area: waiters in this process get SharedAreaError, holds are dropped. Twice is fine."""
        if self._buf is None:
            return
        self._buf = None
        for name in self._fast:
            delattr(self, name)
        self._fast = {}
        try:
            self._sync.close()
        finally:
            self._mem.close()  # (the sync and memory objects stay, small: an op racing this one finds them closed)

    def __reduce__(self):
        """Pickles the area for multiprocessing: the other process gets an area over the same memory."""
        self._check(0, 0)
        travel = getattr(self._mem, 'travel', None)
        if travel is None:
            raise SharedAreaError('sharedarea %d cannot be pickled: this port cannot send memory' % self.id)
        from . import _unpickle
        return _unpickle, travel()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

# The SharedArea object: bounds, widths, overflow and wrap-around rules, the same on every runtime.
# Memory, locking and waiting come from the port; this module imports nothing runtime-specific.
# Small on purpose: the micro:bit compiles every module on import into its 9 KB heap, where code costs
# about a byte of heap per byte of (stripped) source. So this module has read, write and close; the
# other methods come with the parts ints (read8 .. dec64), locks and extra, which sharedarea.load() puts
# on the class: all at import where the heap allows, those a program asks for on the micro:bit.
#
# What the core asks of a port's memory object (mem): .buf (indexable memory), .size, .obj (the user's
# buffer, or None), .close(), .sync, .ix (True: memory without the buffer protocol or slices, as
# machine.mem8; everything goes byte by byte), .bind (None, or bind(area) giving it compiled hot ops).
# (Plain attributes, not optional ones: the micro:bit's getattr() with a default does not catch the
# AttributeError of a class __getattr__.) Of .sync: t = r() or t = w() before an op and done(t) after
# it; rl(), wl(), end() (False: this thread held nothing) for the locks; bump() (inside a write),
# count(), wait(freq, timeout).

class SharedAreaError(ValueError):
    pass


def fail(key, *args):
    # raises the error named key, worked out by .errors (loaded on the first failure): the checks on the
    # common path are one cheap condition each, and which part of it failed, and the message, are found
    # out there. For some keys .errors finds nothing wrong after all (a bool for an int) and this
    # returns. Where .errors cannot load or work it out at that moment (the micro:bit, short of heap or C
    # stack), the error is raised with its type and the key and values instead of a message.
    try:
        from .errors import _MSG, first, other, which
        e = first(key, args) or which(key, args) or other(key, args)  # (one after the other: see .errors)
        m = e and _MSG[e[1]] % e[2]
    except (MemoryError, RuntimeError, OSError):  # no heap, C stack or file for the messages: the type, the values
        raise (AttributeError if key == 'unloaded' else OverflowError if key == 'overflow' else TypeError if key in (
            'int', 'buffer', 'numbers') or key in ('chk', 'length', 'get') and not isinstance(args[1], int) else
            SharedAreaError)(key, *args)
    if e:
        raise e[0](m)


class SharedArea:
    # class-level default: a closed (or half-made) area has no buffer, so close() is safe twice
    _b = None
    _make = None  # the part ints puts its method maker here

    def __init__(self, id, mem):
        self.id = id
        self.size = mem.size
        self._mem = mem
        self._s = mem.sync
        self._sync = mem.sync  # (the name the reshaped core gives it; core/aio.py uses it)
        self._b = mem.buf
        self._ix = mem.ix
        if mem.bind:
            mem.bind(self)  # compiled versions of the hot ops (same rules, same errors)

    def __getattr__(self, name):
        # only called for names the class lacks: `updates`, and read8 .. dec64 before their first use
        # (made by the part ints, once loaded, and kept on the class)
        if name == 'updates':
            self._chk(0, 0)
            return self._s.count()
        if SharedArea._make:
            return SharedArea._make(self, name)  # the part ints makes read8 .. dec64
        fail('unloaded', name)

    def _chk(self, pos, n):
        # the one check every call makes (open, pos an int inside, n bytes from it fit); returns the buffer
        b = self._b
        if b is None or type(pos) is not int or not 0 <= pos < self.size or pos + n > self.size:
            fail('chk', self, pos, n)
        return b

    def read(self, pos, length=0):
        # length 0: to the end
        if type(length) is not int or length < 0:
            fail('length', self, length)
        if not length and type(pos) is int:
            length = self.size - pos
        b = self._chk(pos, length)
        s = self._s
        t = s.r()
        try:
            if self._ix:
                return bytes(b[i] for i in range(pos, pos + length))
            return bytes(b[pos:pos + length])
        finally:
            s.done(t)

    def write(self, pos, data):
        if isinstance(data, str):
            data = bytes(data, 'utf-8')
        elif type(data) is not bytes and type(data) is not bytearray:
            from .extra import _flat
            data = _flat(data)
        n = len(data)
        b = self._chk(pos, n)
        s = self._s
        t = s.w()
        try:
            if self._ix:
                for i in range(n):
                    b[pos + i] = data[i]
            else:
                b[pos:pos + n] = data
            s.bump()
        finally:
            s.done(t)

    def close(self):
        if self._b is not None:
            self._b = None
            while self._s.end():
                pass  # what this thread still holds is let go, so nothing stays locked
            self._mem.close()

    def changed(self, since=None, timeout=None):
        # await it (asyncio): the new update count once the area changes (after the call, or from since);
        # False at the timeout. A plain def handing back aio's coroutine: the micro:bit's firmware (1.9.2)
        # has no async syntax, and this module must compile there.
        from .aio import changed
        return changed(self, since, timeout)

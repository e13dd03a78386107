# CPython port: memory as shared mmap (anonymous, file, fd), ctypes for ptr=, buffers; locking and
# waiting in .sync (compiled in _fast where built), file companions in .companion. See docs/ports.md.
import ctypes
import mmap
import os
import stat
import threading

from ..area import SharedAreaError
from .companion import _anon_sync, _file_sync, companion, companion_dir  # noqa: F401 (the last two: for tools)
from .sync import FAST, _fast  # noqa: F401 (FAST: which path is in use)

PAGE_SIZE = mmap.PAGESIZE
new_lock = threading.Lock
_HOT =  ('read write read8 read16 read32 read64 write8 write16 write32 write64 inc8 inc16 inc32 inc64 '
        'dec8 dec16 dec32 dec64').split()  # (rlock, wlock and unlock: the Python methods, over the compiled Sync)

_BY_ID = []  # id -> compiled Area, for the compiled sharedarea_<op>(id, ...) functions


def fast_functions(g):
    # called by the core with its namespace: swap its sharedarea_<op> functions (and their aliases) for
    # compiled ones that fall back to them for anything but a compiled area's id
    if not _fast:
        return
    ops = dict((id(g['sharedarea_' + op]), op) for op in _HOT if 'sharedarea_' + op in g and 'lock' not in op)
    for name, f in list(g.items()):
        op = ops.get(id(f)) if name.startswith('sharedarea_') else None
        if op:
            g[name] = _fast.function(name, op, _BY_ID, f)
class Memory:
    # an area's bytes (buf, a memoryview of exactly size bytes), its sync, and what to let go at close()
    def __init__(self, buf, sync, kind, obj=None, mm=None):
        self.buf = buf
        self.size = buf.nbytes
        self.sync = sync
        self.kind = kind
        self.obj = obj
        self._mm = mm
        self._fast = None  # the compiled area, made by fast_methods()

    def close(self):
        if self._fast is not None:
            self._fast.close()  # lets go of the buffer, so the mapping can be closed below
        try:
            self.buf.release()
            if self._mm is not None:
                self._mm.close()
        except BufferError:
            pass  # someone still holds a memoryview of it: the mapping goes with the last view


def fast_methods(area):
    # the compiled versions of the hot ops, bound on the new area by the core (None: pure path)
    c = getattr(area._sync, 'c', None)
    if c is None:
        return None
    mem = area._mem
    mem._fast = f = _fast.Area(mem.buf, c, area)
    while len(_BY_ID) <= area.id:
        _BY_ID.append(None)
    _BY_ID[area.id] = f
    return dict((name, getattr(f, name)) for name in _HOT)


def anonymous(size):
    mm = mmap.mmap(-1, size, mmap.MAP_SHARED)
    return Memory(memoryview(mm), _anon_sync(), 'anonymous', None, mm)


def from_buffer(obj):
    try:
        mv = memoryview(obj)
    except TypeError:
        raise TypeError('a sharedarea is made from a spec string, a number of pages or a writable buffer, not %s'
                        % type(obj).__name__)
    if mv.readonly:
        raise TypeError('a sharedarea needs a writable buffer; %s is read-only' % type(obj).__name__)
    if not mv.c_contiguous:
        raise SharedAreaError('a sharedarea needs a contiguous buffer')
    mv = mv.cast('B')
    if not mv.nbytes:
        raise SharedAreaError('a sharedarea needs at least one byte; the buffer is empty')
    return Memory(mv, _anon_sync(), 'buffer', obj)


def at_address(addr, size):
    # the caller vouches for the address, as in uWSGI
    return Memory(memoryview((ctypes.c_char * size).from_address(addr)).cast('B'), _anon_sync(), 'ptr')


def _map(fd, name, size, offset, st, kind):
    if stat.S_ISREG(st.st_mode):
        if size is None:
            size = st.st_size - offset
            if size <= 0:
                raise SharedAreaError('%s is %d bytes: nothing to map at offset %d' % (name, st.st_size, offset))
        elif st.st_size < offset + size:
            raise SharedAreaError('%s is %d bytes, shorter than offset+size = %d (it is never extended)'
                                  % (name, st.st_size, offset + size))
    elif stat.S_ISCHR(st.st_mode):
        if size is None:
            raise SharedAreaError('%s is a device: give size=' % name)
    else:
        raise SharedAreaError('%s is not a regular file or a device, so it cannot be mapped' % name)
    start = offset - offset % mmap.ALLOCATIONGRANULARITY
    mm = mmap.mmap(fd, offset - start + size, mmap.MAP_SHARED, offset=start)
    sync = _file_sync(st)
    return Memory(memoryview(mm)[offset - start:offset - start + size], sync, kind, None, mm)


def from_file(path, size, offset):
    made = False
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        if size is None:
            raise SharedAreaError('%s does not exist; give size= to create it' % path)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        made = True
    try:
        if made:
            os.ftruncate(fd, offset + size)
        return _map(fd, path, size, offset, os.fstat(fd), 'file')
    except BaseException:
        if made:
            os.unlink(path)
        raise
    finally:
        os.close(fd)  # the mapping keeps the file open


def from_fd(fd, size, offset):
    try:
        st = os.fstat(fd)
    except OSError as e:
        raise OSError(e.errno, e.strerror, 'fd=%d' % fd)
    return _map(fd, 'fd=%d' % fd, size, offset, st, 'fd')

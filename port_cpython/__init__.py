# CPython port: memory as shared mmap (anonymous, file, fd), ctypes for ptr=, buffers; locking and
# waiting in .sync (compiled in _fast where built), file companions in .companion. See docs/ports.md.
import ctypes
import errno
import fcntl
import mmap
import os
import stat
import threading

from ..area import SharedArea, SharedAreaError
from . import safefile
from .companion import _anon_sync, _file_sync, companion, companion_dir  # noqa: F401 (the last two: for tools)
from .sync import FAST, _SyncClass, _fast, refuse_signals  # noqa: F401 (FAST: which path is in use)

PAGE_SIZE = mmap.PAGESIZE
_HOT =  ('read write read8 read16 read32 read64 write8 write16 write32 write64 inc8 inc16 inc32 inc64 '
        'dec8 dec16 dec32 dec64').split()
_LOCKS = ('rlock', 'wlock', 'unlock')  # compiled too (their bookkeeping must not be cut by a signal), no function form


def new_lock():
    # the registry's lock; a child forked while another thread held it (inside add()) gets it free
    lock = threading.Lock()
    os.register_at_fork(after_in_child=lock._at_fork_reinit)
    return lock


thread_ident = threading.get_ident
getenv = os.getenv  # the process environment (the core's settings: SHAREDAREA_REDIS_*, UWSGI_SHAREDAREA)
random_bytes = os.urandom  # the core's unguessable tokens (Redis lease holders)


def start_thread(fn):
    # a daemon thread running fn() (the core's helpers: lease renewal, asyncio wake-ups), taking no signals
    def run():
        refuse_signals()
        fn()
    t = threading.Thread(target=run, name='sharedarea', daemon=True)
    t.start()
    return t


def fast_functions(g):
    # called by the core with its namespace: swap its sharedarea_<op> functions (and their aliases) for
    # compiled ones that look the id up in the core's registry and fall back to them for anything unusual
    if not _fast:
        return
    ops = dict((id(g['sharedarea_' + op]), op) for op in _HOT if 'sharedarea_' + op in g)
    for name, f in list(g.items()):
        op = ops.get(id(f)) if name.startswith('sharedarea_') else None
        if op:
            g[name] = _fast.function(name, op, g['_areas'], f)


def _text_signature(name, f):
    # "inc64($self, pos, amount=1)\n--\n\n": what help() shows for a compiled method
    code = f.__code__
    names = code.co_varnames[1:code.co_argcount]
    defaults = f.__defaults__ or ()
    first = len(names) - len(defaults)
    args = ['$self'] + [n if i < first else '%s=%r' % (n, defaults[i - first]) for i, n in enumerate(names)]
    return '%s(%s)\n--\n\n' % (name, ', '.join(args))


if _fast:
    for _name in _HOT + list(_LOCKS):
        _f = getattr(SharedArea, _name)
        _fast.document(_name, _text_signature(_name, _f) + _f.__doc__)

    class FastArea(_fast.Area, SharedArea):
        """Memory shared between threads, processes and interrupt handlers, with atomic ops, locks and waits."""

        # the compiled base comes first, so area.inc64 is its method; anything unusual goes to SharedArea's

        def __init__(self, id, memory, fast_methods=None):
            SharedArea.__init__(self, id, memory)  # (fast_methods: the MicroPython port's way; this class is ours)
            self._attach(memory.buf, memory.sync.c)

        def close(self):
            """Releases the area: waiters in this process get SharedAreaError, holds are dropped. Twice is fine."""
            self._detach()  # the compiled ops let go of the buffer (a thread asleep in the lock: when it wakes)
            SharedArea.close(self)

    _fast.bind(FastArea)  # its compiled methods are its own, so `area.inc64(p)` takes CPython's fast call


class Memory:
    # an area's bytes (buf, a memoryview of exactly size bytes), its sync, and what to let go at close();
    # key and _send (a function of the Memory): how the area pickles (see travel()), None where it cannot
    key = _send = None
    _file = None  # (path, offset, (st_dev, st_ino)) of a file= area

    def __init__(self, buf, sync, kind, obj=None, mm=None):
        self.buf = buf
        self.size = buf.nbytes
        self.sync = sync
        self.kind = kind
        self.obj = obj
        self._mm = mm

    def close(self):
        # the mapping goes with the last reference to it: at once, unless an op another thread runs still has
        # it (it then finishes on live memory instead of meeting a released one), or the user has a view of it
        self.buf = self._mm = None

    def travel(self):
        # (key, make, args): make(*args) in another process gives a Memory over the same bytes, lock and
        # counter; key names that memory alike in every process (pickling, for multiprocessing)
        if self._send is None:
            raise SharedAreaError('a %s area cannot be pickled: its memory is this process\'s own (pickle a '
                                  'pages=, size= or file= area, or pass the fd yourself)' % self.kind)
        return (self.key,) + self._send(self)


# an anonymous area is one memfd: its sync's page (lock, counter) first, then the area's bytes from _DATA,
# so that one fd sent to another process (multiprocessing.reduction.DupFd) brings both
_DATA = max(4096, mmap.ALLOCATIONGRANULARITY)


def _too_big(what, size, e):
    return SharedAreaError('%s: %d bytes are more than this process can map (%s)' % (what, size, e))


def anonymous(size):
    if not hasattr(os, 'memfd_create'):
        return Memory(memoryview(mmap.mmap(-1, size, mmap.MAP_SHARED)), _anon_sync(), 'anonymous')
    fd = os.memfd_create('sharedarea', os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    try:
        os.ftruncate(fd, _DATA + size)
        # sealed: nobody who gets the fd (a worker, through pickling) can shrink it under a mapping (SIGBUS)
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW)
        mm = mmap.mmap(fd, size, mmap.MAP_SHARED, offset=_DATA)
    except (OverflowError, OSError) as e:
        os.close(fd)
        if isinstance(e, OSError) and e.errno not in (errno.ENOMEM, errno.EFBIG, errno.EOVERFLOW):
            raise
        raise _too_big('sharedarea size=%d' % size, size, e)
    return _memfd_memory(fd, mm)


def _memfd_memory(fd, mm):
    # the Memory of an anonymous area's memfd (the sync takes the fd: it closes it)
    try:
        sync = _SyncClass(fd)
    except BaseException:
        mm.close()
        os.close(fd)
        raise
    m = Memory(memoryview(mm), sync, 'anonymous', None, mm)
    st = os.fstat(fd)
    m.key = ('memfd', st.st_dev, st.st_ino)
    m._send = _send_memfd
    return m


def _send_memfd(m):
    # multiprocessing's way to send an fd (as multiprocessing.heap.Arena does): to a child being started,
    # or through its resource sharer to a running one; imported here, as few programs pickle areas
    from multiprocessing.reduction import DupFd
    return _adopt_memfd, (DupFd(m.sync.fd), m.size)


def _send_file(m):
    path, offset, ident = m._file
    return _adopt_file, (path, m.size, offset, ident)


def _adopt_memfd(dupfd, size):
    # in the receiving process: an anonymous area's memfd, opened anew (an open file description of this
    # process's own, so its locks are this process's), mapped like the sender's
    fd = dupfd.detach()
    try:
        own = os.open('/proc/self/fd/%d' % fd, os.O_RDWR | os.O_CLOEXEC)
    finally:
        os.close(fd)
    try:
        mm = mmap.mmap(own, size, mmap.MAP_SHARED, offset=_DATA)
    except BaseException:
        os.close(own)
        raise
    return _memfd_memory(own, mm)


def _adopt_file(path, size, offset, ident):
    # in the receiving process: the same file, or an error (never a new file where the old one was)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    if st is None or (st.st_dev, st.st_ino) != ident:
        raise SharedAreaError('file=%s is no longer the file the pickled area was made from' % path)
    return from_file(path, size, offset)


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
    try:
        mm = mmap.mmap(fd, offset - start + size, mmap.MAP_SHARED, offset=start)
    except (OverflowError, OSError) as e:
        if isinstance(e, OSError) and e.errno not in (errno.ENOMEM, errno.EFBIG, errno.EOVERFLOW):
            raise
        raise _too_big(name, size, e)
    try:
        sync = _file_sync(st, name)
    except BaseException:
        mm.close()
        raise
    return Memory(memoryview(mm)[offset - start:offset - start + size], sync, kind, None, mm)


def _trust(path, st, dfd, shared):
    # In a directory every user can write (/dev/shm, /tmp), a file another user made may be a trap: they
    # read what we write, or swap it. Used only when it is ours or root's, or shared=group says to, for a
    # file its group may read and write. (A symlink there was refused when it was opened.)
    me = os.geteuid()
    if st.st_uid in (0, me) or not stat.S_ISREG(st.st_mode):
        return
    owner, mode = safefile.who(st.st_uid), stat.S_IMODE(st.st_mode)
    if shared != 'group':
        raise SharedAreaError('%s is owned by %s, not by this user (%s), in a directory every user can make '
                              'files in: that user may have put it there to read or change what this process '
                              'writes, so it is refused. Remove it (as its owner or root), or if it is meant to '
                              'be shared add shared=group to the spec (the file must then let its group read '
                              'and write); see docs/security.md' % (path, owner, safefile.who(me)))
    if mode & 0o060 != 0o060:
        raise SharedAreaError('%s (owner %s, mode %04o): shared=group needs a file its group may read and '
                              'write; its owner can chmod g+rw it' % (path, owner, mode))
    if mode & stat.S_IWOTH:
        raise SharedAreaError('%s (owner %s, mode %04o) lets every user write it, so anyone may have changed '
                              'it; its owner can chmod o-w it' % (path, owner, mode))
    if me != 0 and st.st_gid != os.getegid() and st.st_gid not in os.getgroups():
        raise SharedAreaError('%s (owner %s) belongs to group %d, not one of this process\'s groups (%s), so '
                              'shared=group does not cover it' % (path, owner, st.st_gid,
                                                                   ' '.join(map(str, os.getgroups()))))


def _open_file(path, size, offset, shared):
    # the data file's fd and stat: opened without following a symlink where others can make files, made
    # whole (O_EXCL under a temporary name, reserved, then renamed into place) so concurrent creators all
    # end up with the same file and none sees it half-made
    base = os.path.basename(path)
    if not base:
        os.open(path, os.O_RDWR)  # "dir/": IsADirectoryError, naming it
    dfd, dst = safefile.open_dir(path, path)
    try:
        risky = safefile.open_to_all(dst)
        flags = os.O_RDWR | os.O_CLOEXEC | (os.O_NOFOLLOW if risky else 0)
        while True:
            try:
                fd = os.open(base, flags, dir_fd=dfd)
            except FileNotFoundError:
                if size is None:
                    raise SharedAreaError('%s does not exist; give size= to create it' % path)
                try:
                    fd = safefile.create(dfd, base, offset + size, 0o660 if shared == 'group' else 0o600, path)
                except FileExistsError:
                    if os.path.islink(path):
                        raise FileNotFoundError(errno.ENOENT, 'a symbolic link to a missing file', path)
                    continue  # another process made it first: open theirs
            except OSError as e:
                if e.errno == errno.ELOOP and risky and os.path.islink(path):
                    raise SharedAreaError('%s is a symbolic link (to %s, made by %s) in a directory every user '
                                          'can make files in; following it could let that user point the area '
                                          'at any file, so it is refused: give the real path'
                                          % (path, safefile.link_target(dfd, base),
                                             safefile.who(os.lstat(path).st_uid)))
                if e.errno == errno.EACCES:
                    raise PermissionError(e.errno, 'Permission denied: a file area needs read and write access '
                                          '(this user may read the file itself, not join its locks)', path)
                raise type(e)(e.errno, e.strerror, path)
            try:
                st = os.fstat(fd)
                if risky:
                    _trust(path, st, dfd, shared)
                return fd, st
            except BaseException:
                os.close(fd)
                raise
    finally:
        os.close(dfd)


def from_file(path, size, offset, shared='user'):
    fd, st = _open_file(path, size, offset, shared)
    try:
        m = _map(fd, path, size, offset, st, 'file')
        m.key = ('file', st.st_dev, st.st_ino, offset, m.size)
        m._file = (path, offset, (st.st_dev, st.st_ino))
        m._send = _send_file
        return m
    finally:
        os.close(fd)  # the mapping keeps the file open


def from_fd(fd, size, offset):
    try:
        st = os.fstat(fd)
        mode = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE
    except OSError as e:
        raise OSError(e.errno, e.strerror, 'fd=%d' % fd)
    if mode != os.O_RDWR:
        raise SharedAreaError('fd=%d is open %s: a sharedarea maps it to read and write, so it needs O_RDWR'
                              % (fd, 'O_RDONLY' if mode == os.O_RDONLY else 'O_WRONLY'))
    return _map(fd, 'fd=%d' % fd, size, offset, st, 'fd')

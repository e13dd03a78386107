# Making and opening files in directories other users can write (/dev/shm, /tmp): never through a symlink,
# never seen half-made, room reserved up front. Used for file= areas and for their lock companions.
import ctypes
import errno
import fcntl
import os
import stat

from ..area import SharedAreaError

_RENAME_NOREPLACE = 1
try:
    _renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    _renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
except (OSError, AttributeError):
    _renameat2 = None  # glibc before 2.28, musl: link() and unlink() do the same


def who(uid):
    """'uid 65534 (nobody)': a file owner as a message names it."""
    try:
        import pwd
        return 'uid %d (%s)' % (uid, pwd.getpwuid(uid).pw_name)
    except (ImportError, KeyError):
        return 'uid %d' % uid


def open_dir(path, what):
    """An fd of the directory holding path (for the *at calls), and its stat."""
    d = os.path.dirname(path) or '.'
    try:
        fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as e:
        raise type(e)(e.errno, '%s (the directory of %s)' % (e.strerror, what), path)
    return fd, os.fstat(fd)


def open_to_all(dst):
    """True for a directory every user may make files in (world-writable), sticky or not."""
    return bool(dst.st_mode & stat.S_IWOTH)


def reserve(fd, length, what):
    """Gives the file its blocks now, so a full filesystem is an error here and never a SIGBUS later."""
    try:
        os.posix_fallocate(fd, 0, length)
    except OverflowError as e:
        raise SharedAreaError('%s: %d bytes are more than a file can hold (%s)' % (what, length, e))
    except OSError as e:
        if e.errno == errno.EFBIG:
            raise SharedAreaError('%s: %d bytes are more than a file here can hold (%s)' % (what, length, e.strerror))
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            raise SharedAreaError('no room for %d bytes for %s: the filesystem is full (%s); free some space '
                                  '(df) and add the area again' % (length, what, e.strerror))
        if e.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
            raise
        os.ftruncate(fd, length)  # a filesystem without fallocate: size it, as before


def publish(dfd, tmp, name):
    """Gives the finished file tmp its real name, only if that name is free (else FileExistsError)."""
    if _renameat2 is not None:
        if _renameat2(dfd, os.fsencode(tmp), dfd, os.fsencode(name), _RENAME_NOREPLACE) == 0:
            return
        e = ctypes.get_errno()
        if e not in (errno.ENOSYS, errno.EINVAL):
            raise OSError(e, os.strerror(e), name)
    os.link(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd, follow_symlinks=False)
    os.unlink(tmp, dir_fd=dfd)


def create(dfd, name, length, mode, what, fix=None):
    """Makes name in the directory dfd at length bytes, reserved, with exactly mode (the umask does not
    apply), under a temporary name first, so others only ever see it whole; fix(fd) runs before it
    appears. Returns the open fd; FileExistsError if another process made it first."""
    tmp = '.sharedarea-new-%s' % os.urandom(8).hex()
    try:
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=dfd)
    except OSError as e:  # named by what the user asked for, not by the temporary name
        raise type(e)(e.errno, '%s (making %s)' % (e.strerror, what), what)
    try:
        reserve(fd, length, what)
        if fix is not None:
            fix(fd)
        os.fchmod(fd, mode)
        publish(dfd, tmp, name)
        return fd
    except BaseException:
        os.close(fd)
        try:
            os.unlink(tmp, dir_fd=dfd)
        except OSError:
            pass  # published after all (link done, unlink of the temporary name failed): nothing to undo
        raise


def link_target(dfd, name):
    """Where a symlink points, for a message."""
    try:
        return os.readlink(name, dir_fd=dfd)
    except OSError:
        return '?'


def sealed_memfd(name, size, what):
    """A memfd of size bytes, reserved, and sealed so that nobody who gets the fd (a child, a pickled area)
    can shrink or grow it: a mapping of it never meets SIGBUS. Linux only."""
    fd = os.memfd_create(name, os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    try:
        reserve(fd, size, what)
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW)
    except BaseException:
        os.close(fd)
        raise
    return fd

# The companion of a mapped file: a page beside it (in /dev/shm) holding the update counter and the
# lock state, named by the file's identity so that every process using the file finds the same one.
# Its name is predictable and /dev/shm is everyone's, so it is opened without following links and used
# only if it is ours to trust (see docs/security.md); else the area is refused with the reason.
import atexit
import errno
import os
import stat
import tempfile

from ..area import SharedAreaError
from . import safefile
from .sync import _BY_KEY, _META, _TABLE, _SyncClass, _Unlinked, _leave


def _at_exit():
    # a program that ends without close() still removes the companions it was the last user of
    for s in list(_BY_KEY.values()):
        try:
            _leave(s.lfd, s.path)
        except OSError:
            pass


atexit.register(_at_exit)


def _anon_sync():
    # a process's own companion: a memfd sealed against shrinking (no SIGBUS, whoever else gets the fd)
    if hasattr(os, 'memfd_create'):
        fd = safefile.sealed_memfd('sharedarea-meta', _META, 'the lock page of an area')
    else:
        fd = os.dup(tempfile.TemporaryFile().fileno())
        os.ftruncate(fd, _META)
    return _SyncClass(fd)


def companion_dir():
    return '/dev/shm' if os.path.isdir('/dev/shm') else tempfile.gettempdir()


def companion(path):
    # where the lock/counter companion of a mapped file (a path or an open fd) lives; None if it is missing
    try:
        st = os.fstat(path) if isinstance(path, int) else os.stat(path)
    except OSError:
        return None
    return '%s/sharedarea-%x-%x' % (companion_dir(), st.st_dev, st.st_ino)


def _allowed(st):
    # the companion's mode: read and write for each class of user that may write the data file, nothing more
    # (fcntl locks need only read access, so a user who may read it could hold its locks and block writers)
    m = st.st_mode
    return 0o600 | (0o060 if m & stat.S_IWGRP else 0) | (0o006 if m & stat.S_IWOTH else 0)


def _distrust(c, st, dst):
    # why the companion (its stat c) cannot be trusted for the data file (its stat st), or None
    if not stat.S_ISREG(c.st_mode):
        return 'is not a regular file'
    if c.st_nlink != 1:
        return 'has %d hard links (another name for it may be someone else\'s file)' % c.st_nlink
    # its owner may write the data file: the data file's owner, root, anyone if the file lets everyone
    # write, or a member of the file's group if the group may write (only a member can give a file that
    # group, in a directory without the setgid bit)
    if not (c.st_uid in (0, st.st_uid) or st.st_mode & stat.S_IWOTH
            or (st.st_mode & stat.S_IWGRP and c.st_gid == st.st_gid and not dst.st_mode & stat.S_ISGID)):
        return 'is owned by %s, who may not write the data file' % safefile.who(c.st_uid)
    mode, allowed = stat.S_IMODE(c.st_mode), _allowed(st)
    if mode & ~allowed:
        return 'has mode %04o, more than the data file lets write (%04o at most)' % (mode, allowed)
    if mode & 0o060 and c.st_gid != st.st_gid:
        return 'grants group %d, not the data file\'s group %d' % (c.st_gid, st.st_gid)
    if c.st_size != _META:
        return 'is %d bytes, not %d' % (c.st_size, _META)
    return None


def _refuse(name, what, why, owner):
    raise SharedAreaError('%s (owner %s), the lock companion of %s, %s. It is not used and not changed. Remove '
                          'it (rm %s, as root or its owner) once no process uses %s, then add the area again; '
                          'see docs/security.md' % (name, owner, what, why, name, what))


def _made(st):
    # a new companion: owned like the data file where we may (root), its group where it is shared
    def fix(fd):
        if os.geteuid() == 0:
            os.fchown(fd, st.st_uid, st.st_gid)
        elif _allowed(st) & 0o060 and os.getegid() != st.st_gid:
            os.fchown(fd, -1, st.st_gid)  # we may write the file through its group, so we are a member
    return fix


def _open_companion(dfd, dst, path, st, what):
    # the companion's fd, opened or made safely, and trusted; SharedAreaError with the reason otherwise
    base = os.path.basename(path)
    while True:
        try:
            fd = os.open(base, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dfd)
        except FileNotFoundError:
            try:
                return safefile.create(dfd, base, _META, _allowed(st), path, _made(st))
            except FileExistsError:
                continue  # another process made it first: use theirs
        except OSError as e:
            try:
                c = os.stat(base, dir_fd=dfd, follow_symlinks=False)
            except OSError:
                raise e
            if stat.S_ISLNK(c.st_mode):
                _refuse(path, what, 'is a symbolic link (to %s)' % safefile.link_target(dfd, base),
                        safefile.who(c.st_uid))
            if e.errno in (errno.EACCES, errno.EPERM):
                why = _distrust(c, st, dst) or ('has mode %04o and group %d, which this user (%s) may not open '
                                                'for writing' % (stat.S_IMODE(c.st_mode), c.st_gid,
                                                                 safefile.who(os.geteuid())))
                _refuse(path, what, why, safefile.who(c.st_uid))
            raise
        c = os.fstat(fd)
        if c.st_nlink == 0:
            os.close(fd)  # its last user removed it between our open and our look: open (or make) it again
            continue
        why = _distrust(c, st, dst)
        if why:
            os.close(fd)
            _refuse(path, what, why, safefile.who(c.st_uid))
        return fd


def _file_sync(st, what='the file'):
    # one companion handle per file in a process, even when threads add() the same file at once; what: the
    # user's file, as messages name it
    with _TABLE:
        return _file_sync_locked(st, what)


def _file_sync_locked(st, what):
    # the companion of a mapped file: named by the file's identity, so every process finds the same one;
    # it holds only a counter and lock state, so one left by a crash is harmless once it is trusted
    key = (st.st_dev, st.st_ino)
    s = _BY_KEY.get(key)
    if s is not None:
        s.refs += 1
        return s
    name = '%s/sharedarea-%x-%x' % (companion_dir(), key[0], key[1])
    dfd, dst = safefile.open_dir(name, what)
    try:
        if safefile.open_to_all(dst) and not dst.st_mode & stat.S_ISVTX:
            raise SharedAreaError('%s, where lock companions go, lets every user make and remove files (mode '
                                  '%04o without the sticky bit); chmod +t it' % (os.path.dirname(name),
                                                                                 stat.S_IMODE(dst.st_mode)))
        while True:
            fd = _open_companion(dfd, dst, name, st, what)
            try:
                s = _BY_KEY[key] = _SyncClass(fd, key, name, what)
                s.path = name
                return s
            except _Unlinked:
                os.close(fd)  # its last user removed it between our open and our join: open it again
            except BaseException:
                os.close(fd)
                raise
    finally:
        os.close(dfd)

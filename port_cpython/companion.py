# The companion of a mapped file: a page beside it (in /dev/shm) holding the update counter and the
# lock state, named by the file's identity so that every process using the file finds the same one.
import atexit
import os
import tempfile

from .sync import _BY_KEY, _META, _SyncClass, _Unlinked, _leave

def _at_exit():
    # a program that ends without close() still removes the companions it was the last user of
    for s in list(_BY_KEY.values()):
        try:
            _leave(s.lfd, s.path)
        except OSError:
            pass


atexit.register(_at_exit)


def _anon_sync():
    if hasattr(os, 'memfd_create'):
        fd = os.memfd_create('sharedarea-meta', os.MFD_CLOEXEC)
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


def _file_sync(st):
    # the companion of a mapped file: named by the file's identity, so every process finds the same one;
    # it holds only a counter and a flag (locks are the kernel's), so one left by a crash is harmless
    key = (st.st_dev, st.st_ino)
    s = _BY_KEY.get(key)
    if s is not None:
        s.refs += 1
        return s
    name = '%s/sharedarea-%x-%x' % (companion_dir(), key[0], key[1])
    while True:
        fd = os.open(name, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, (st.st_mode & 0o666) | 0o600)
        try:
            if os.fstat(fd).st_size < _META:
                os.ftruncate(fd, _META)
            s = _BY_KEY[key] = _SyncClass(fd, key, name)
            s.path = name
            return s
        except _Unlinked:
            os.close(fd)
        except BaseException:
            os.close(fd)
            raise


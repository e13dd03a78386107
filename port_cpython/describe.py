# What the CPython port can say about an area's lock and users right now, for `python -m sharedarea info`.
# Written against today's companion layout (see port_cpython/__init__.py and _fast.c); it only reads.
#
# Kept apart on purpose: this is the one module outside the lock code that knows where the lock words
# are. Whoever changes the lock protocol (the companion's fields, or POSIX record locks -> open-file-
# description locks) changes `_holders_fcntl`, `_holders_fast` and `_lock_users` here, and the CLI follows.
#
# Today's companion (4096 bytes, /dev/shm/sharedarea-<dev>-<inode> for a file area, a memfd otherwise):
#   0   u64 update counter            8  u8 "someone waits" flag     24  u32 protocol (1 fcntl, 2 _fast)
#   16  u32 (_fast) pid of the writer 28 u32 (_fast) reader slots in use
#   64 + 64*i  u64 (_fast) reader slot: high half pid, low half read holds
# fcntl record locks on the companion: byte 0 the lock itself (pure-Python path), byte 1 joining and
# removal, byte 2 a shared lock held by every process that has the area open (both paths).
import os
import stat
from struct import unpack_from

PROTOCOLS = {0: 'none recorded', 1: 'pure-Python (fcntl record locks)', 2: 'compiled (_fast, futex words)'}
_NSLOTS = 62


def describe(area):
    """What the area's companion says now: a dict (see the keys below); pids of other processes."""
    sync = area._mem.sync
    m = bytes(sync._m[:4096])
    path = getattr(sync, 'path', None)
    proto = unpack_from('<I', m, 24)[0]
    held = _lock_users(os.fstat(sync.fd))
    if proto == 2:
        writer, readers = _holders_fast(m)
    else:
        writer, readers = _holders_fcntl(held)
    return {
        'companion': path,  # None: an anonymous area, its companion a memfd of this process
        'updates': unpack_from('<Q', m, 0)[0],
        'protocol': PROTOCOLS.get(proto, 'unknown (%d)' % proto),
        'writer': writer,  # pid of the process holding the write side, or None
        'readers': readers,  # {pid: read holds} (the pure path's kernel locks do not count holds: 1 each)
        'users': sorted(set(pid for pid, byte, kind in held if byte == 2)),  # processes with the area open
        'waiting': sorted(set(pid for pid, byte, kind in held if kind.startswith('->'))),
    }


# recorded_protocol, read_counter and lock_users open the companion by its path: call them only where this
# process has not joined it (closing any descriptor of a file drops this process's POSIX record locks on it).
# describe() reads the area's own mapping and /proc/locks instead, so it is safe on an open area.


def _head(path, n):
    # the first n bytes of a companion, b'' if it is missing or not a regular file: never through a symlink
    # or into a FIFO another user planted at its name in /dev/shm (docs/security.md)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return b''
    try:
        return os.pread(fd, n, 0) if stat.S_ISREG(os.fstat(fd).st_mode) else b''
    except OSError:
        return b''
    finally:
        os.close(fd)


def recorded_protocol(companion_path):
    """The protocol number the companion at that path records (0 if it is missing or new)."""
    b = _head(companion_path, 28)
    return unpack_from('<I', b, 24)[0] if len(b) == 28 else 0


def pure_needed(companion_path):
    """True / False: the processes using that companion speak the pure / compiled path; None: nobody uses it."""
    theirs = recorded_protocol(companion_path)
    if theirs not in (1, 2) or not lock_users(companion_path):
        return None
    return theirs == 1


def read_counter(companion_path):
    """The update counter in the companion at that path, read without joining it (None if missing)."""
    b = _head(companion_path, 8)
    return unpack_from('<Q', b, 0)[0] if len(b) == 8 else None


def lock_users(companion_path):
    """Pids of the processes that have the companion's area open (their shared lock on byte 2)."""
    try:
        st = os.stat(companion_path)
    except OSError:
        return []
    return sorted(set(pid for pid, byte, kind in _lock_users(st) if byte == 2))


def _holders_fast(m):
    owner = unpack_from('<I', m, 16)[0]
    n = min(unpack_from('<I', m, 28)[0], _NSLOTS)
    readers = {}
    for i in range(n):
        v = unpack_from('<Q', m, 64 + 64 * i)[0]
        if v & 0xFFFFFFFF:
            readers[v >> 32] = readers.get(v >> 32, 0) + (v & 0xFFFFFFFF)
    return owner or None, readers


def _holders_fcntl(held):
    writer = None
    readers = {}
    for pid, byte, kind in held:
        if byte == 0 and kind == 'WRITE':
            writer = pid
        elif byte == 0 and kind == 'READ':
            readers[pid] = 1
    return writer, readers


def _lock_users(st):
    # (pid, first byte, READ / WRITE / '->READ' for a waiter) of every record lock on that file (a stat)
    me = '%02x:%02x:%d' % (os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)
    out = []
    try:
        with open('/proc/locks') as f:
            lines = f.read().splitlines()
    except OSError:
        return out
    for ln in lines:
        w = ln.split()
        wait = len(w) > 1 and w[1] == '->'
        if wait:
            del w[1]
        if len(w) < 8 or w[1] not in ('POSIX', 'OFDLCK'):
            continue
        if w[5] != me:
            continue
        start = int(w[6])
        out.append((int(w[4]), start, ('->' if wait else '') + w[3]))
    return out

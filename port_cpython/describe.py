# What the CPython port can say about an area's lock and users right now, for `python -m sharedarea info`.
# Written against today's companion layout (see port_cpython/__init__.py and _fast.c); it only reads.
#
# Kept apart on purpose: this is the one module outside the lock code that knows where the lock words
# are. Whoever changes the lock protocol changes `_holders_pure`, `_holders_fast`, `_count` and
# `_lock_users` here, and the CLI follows.
#
# The companion (4096 bytes, /dev/shm/sharedarea-<dev>-<inode> for a file area, a memfd otherwise; the
# layout is in docs/internals.md):
#   24  u32 protocol (4 pure-Python, 3 compiled; 1 and 2 are the older pid/lockf ones)
#   pure-Python: 0 u64 update counter, 12 u32 waiters
#   compiled:    0 u64 updates folded in, 16 u32 wake word, 20 u32 waiters, 64 u32 owner word
#                ((generation << 8) | (slot + 1)), 72 u32 slots in use, 128 + 64*i slot i: u32 read holds,
#                u32 generation, u64 that process's updates (the counter is base + the slots' updates)
# Open-file-description locks on the companion: byte 0 the pure path's lock itself, byte 1 joining and
# removal, byte 2 a shared lock held by every process that has the area open, byte 3 the pure path's
# waiter count, byte 4096 + i held by the process of slot i while it lives. OFD locks show pid -1 in
# /proc/locks, so whose they are is read from /proc/<pid>/fdinfo (only processes this user may look at).
import os
import stat
from struct import unpack_from

PROTOCOLS = {0: 'none recorded', 1: 'older pure-Python (lockf)', 2: 'older compiled (by pid)',
             3: 'compiled (_fast, futex words)', 4: 'pure-Python (open-file-description locks)'}
_NSLOTS = 62
_SLOT_LOCKS = 4096


def describe(area):
    """What the area's companion says now: a dict (see the keys below); pids of other processes."""
    sync = area._mem.sync
    m = bytes(sync._m[:4096])
    path = getattr(sync, 'path', None)
    proto = unpack_from('<I', m, 24)[0]
    held = _lock_users(os.fstat(sync.fd))
    if proto == 3:
        writer, readers = _holders_fast(m, held)
    else:
        writer, readers = _holders_pure(held)
    return {
        'companion': path,  # None: an anonymous area, its companion a memfd of this process
        'updates': _count(m, proto),
        'protocol': PROTOCOLS.get(proto, 'unknown (%d)' % proto),
        'writer': writer,  # pid of the process holding the write side, or None
        'readers': readers,  # {pid: read holds} (the pure path's kernel locks do not count holds: 1 each)
        'users': sorted(set(pid for pid, byte, kind in held if byte == 2)),  # processes with the area open
        'waiting': [],  # OFD lock waiters are not named by the kernel
    }


# recorded_protocol, read_counter and lock_users open the companion by its path, read-only: with
# open-file-description locks that takes nothing from the processes using it.


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
    if theirs not in (3, 4) or not lock_users(companion_path):
        return None
    return theirs == 4


def read_counter(companion_path):
    """The update counter in the companion at that path, read without joining it (None if missing)."""
    b = _head(companion_path, 4096)
    return _count(b, unpack_from('<I', b, 24)[0]) if len(b) == 4096 else None


def lock_users(companion_path):
    """Pids of the processes that have the companion's area open (their shared lock on byte 2)."""
    try:
        st = os.stat(companion_path)
    except OSError:
        return []
    return sorted(set(pid for pid, byte, kind in _lock_users(st) if byte == 2))


def _count(m, proto):
    total = unpack_from('<Q', m, 0)[0]
    if proto == 3:
        for i in range(min(unpack_from('<I', m, 72)[0], _NSLOTS)):
            total += unpack_from('<Q', m, 128 + 64 * i + 8)[0]
    return total & 0xFFFFFFFFFFFFFFFF


def _holders_fast(m, held):
    slot_pid = dict((byte - _SLOT_LOCKS, pid) for pid, byte, kind in held if byte >= _SLOT_LOCKS)
    owner = unpack_from('<I', m, 64)[0]
    writer = slot_pid.get((owner & 0xFF) - 1) if owner else None
    readers = {}
    for i in range(min(unpack_from('<I', m, 72)[0], _NSLOTS)):
        n = unpack_from('<I', m, 128 + 64 * i)[0]
        if n and i in slot_pid:
            readers[slot_pid[i]] = readers.get(slot_pid[i], 0) + n
    return writer, readers


def _holders_pure(held):
    writer = None
    readers = {}
    for pid, byte, kind in held:
        if byte == 0 and kind == 'WRITE':
            writer = pid
        elif byte == 0 and kind == 'READ':
            readers[pid] = 1
    return writer, readers


def _lock_users(st):
    # (pid, first byte, READ / WRITE) of every lock on that file (a stat), from each process's fdinfo
    me = '%02x:%02x:%d' % (os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)
    try:
        with open('/proc/locks') as f:
            if me not in f.read():
                return []  # nobody locks it: no need to look at every process
    except OSError:
        return []
    out = set()
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            fds = os.listdir('/proc/%s/fdinfo' % pid)
        except OSError:
            continue  # gone, or not ours to look at
        for fd in fds:
            try:
                with open('/proc/%s/fdinfo/%s' % (pid, fd)) as f:
                    info = f.read()
            except OSError:
                continue
            if me not in info:
                continue
            for ln in info.splitlines():
                w = ln.split()
                # lock:  1: OFDLCK ADVISORY  READ -1 00:1b:22291 2 2
                if len(w) >= 8 and w[0] == 'lock:' and w[2] in ('OFDLCK', 'POSIX') and w[6] == me:
                    out.add((int(pid), int(w[7]), w[4]))
    return sorted(out)

# The CPython port's Sync: a reader/writer lock that nests for its holder, held between threads and
# processes, the update counter and futex wake-ups; the compiled _fast extension, where built, does the same.
import ctypes
import fcntl
import mmap
import os
import signal
import struct
import threading
import time
import weakref
from functools import partial
from struct import pack_into, unpack_from

from ..area import SharedAreaError

_ident = threading.get_ident
_BY_KEY = {}  # (st_dev, st_ino) of a mapped file -> its _Sync, one per process as fcntl locks require
_TABLE = threading.Lock()  # guards _BY_KEY and the refs of its syncs: threads add() and close() one file at once
_META = 4096  # the companion; the pure path's: u64 update counter at 0, u32 waiters at 12 (docs/ports.md)
_WAITERS = 12  # wait() calls counted in and out (under the byte-3 lock), so an update never clears a mark
# Open-file-description locks on the companion: byte 0 the pure path's lock between processes, byte 1
# joining and leaving, byte 2 "a user" (shared by every user), byte 3 the pure path's waiter count,
# byte _SLOT_LOCKS + i "slot i is alive" (the compiled path). They belong to one open of the file, not to the process as fcntl.lockf's do, so closing
# another descriptor of the companion (a diagnostic read, the CLI) drops none of them; they go when the
# holder dies, in whatever pid namespace it lives.
_F_OFD_GETLK = getattr(fcntl, 'F_OFD_GETLK', 36)
_F_OFD_SETLK = getattr(fcntl, 'F_OFD_SETLK', 37)
_F_OFD_SETLKW = getattr(fcntl, 'F_OFD_SETLKW', 38)
_FLOCK = '@hhqqi4x'  # struct flock: l_type, l_whence, l_start, l_len, l_pid (0, as OFD locks require)
_FL = dict((k, struct.pack(_FLOCK, k, 0, 0, 1, 0)) for k in (fcntl.F_RDLCK, fcntl.F_WRLCK, fcntl.F_UNLCK))  # byte 0
_TURN = 0.1  # seconds: the longest a thread sleeps between looks at its turn (a lost notify costs this)
_YIELDS = 8
_FIRST_NAP, _NAP = 0.00005, 0.02  # seconds: naps between tries of a lock another process has, doubling to _NAP
_SLOT_LOCKS = 4096
_PROTO = 24  # u32 in the companion: the lock protocol its users speak (4 = pure Python, 3 = the _fast extension)
_PROTO_NAMES = {0: 'none recorded', 1: 'older pure-Python (lockf)', 2: 'older compiled (_fast, by pid)',
                3: 'compiled (_fast)', 4: 'pure-Python'}
# the compiled fast path (setup.py builds it where a compiler is present); SHAREDAREA_PURE=1 turns it off
try:
    if os.environ.get('SHAREDAREA_PURE', '') not in ('', '0'):
        raise ImportError('SHAREDAREA_PURE is set')
    from . import _fast
except ImportError:
    _fast = None
FAST = _fast is not None
# futex(2) by ctypes, so wait() wakes at once instead of polling; absent elsewhere, wait() polls
_NR_FUTEX = {'x86_64': 202, 'aarch64': 98, 'riscv64': 98, 'armv7l': 240, 'armv6l': 240, 'armv8l': 240,
             'i686': 240, 'i386': 240}.get(os.uname().machine)
try:
    _syscall = ctypes.CDLL(None, use_errno=True).syscall
    _syscall.restype = ctypes.c_long
except (OSError, AttributeError):
    _NR_FUTEX = None


# Signals on the pure path (fault 10). CPython runs a signal's handler in the main thread between two
# bytecodes, so a KeyboardInterrupt can land between taking a lock and noting it (or between an unlock's
# start and its work) and leave a hold behind for ever; the compiled path does that bookkeeping in C. Here
# the main thread defers signals while it holds any lock of a pure-path area: pthread_sigmask blocks them
# from its first hold until its last goes, and they are delivered as that last one goes (their handlers run
# on the way out of unlock(), or of the op). Waiting for a lock lets them in (Ctrl-C still ends a wait), and
# one that raises there leaves nothing taken. Every change of the mask is a direct call: nothing runs between
# it and what it guards. Limit: a signal the kernel gives to another thread that does not block it is still
# handled by the main thread at its next bytecode (docs/internals.md); the library's own threads take none.
_SIG_BLOCK, _SIG_SETMASK = signal.SIG_BLOCK, signal.SIG_SETMASK
try:
    _libc = ctypes.CDLL(None, use_errno=True)
    _sigmask = _libc.pthread_sigmask  # (no PyErr_CheckSignals in it, unlike signal.pthread_sigmask)
    _DEFERRED = ctypes.create_string_buffer(128)  # a sigset_t (128 bytes in glibc and musl): every catchable
    _SAVED = ctypes.create_string_buffer(128)  # signal but the faults; the main thread's mask before its first hold
    _libc.sigfillset(_DEFERRED)
    for _n in ('SIGKILL', 'SIGSTOP', 'SIGSEGV', 'SIGBUS', 'SIGFPE', 'SIGILL', 'SIGTRAP', 'SIGSYS', 'SIGABRT'):
        _libc.sigdelset(_DEFERRED, int(getattr(signal, _n)))
except (OSError, AttributeError):
    _sigmask = None
_MAIN = [threading.main_thread().ident]  # the thread Python runs signal handlers in (a forked child: its only one)
_HELD = [0]  # holds the main thread has, over every pure-path area: signals are deferred while there are any
_OWED = [0]  # of those, the ones another thread's close() dropped: the main thread counts them out at its next


def _resume(n=1):
    # n holds of this thread went: the main thread's last one lets deferred signals in (their handlers run
    # here); holds that another thread's close() dropped are counted out with them
    if _ident() == _MAIN[0] and _sigmask is not None:
        _HELD[0] -= n + _OWED[0]
        _OWED[0] = 0
        if _HELD[0] <= 0:
            _HELD[0] = 0
            _sigmask(_SIG_SETMASK, _SAVED, None)


def refuse_signals():
    # the calling thread (a helper of the library's) takes no signals: the kernel gives them to the program's
    # threads, and while the main thread defers them they wait for it instead of waking a helper (whose
    # trip would make the main thread handle them at once, in the middle of what it defers them for)
    if _sigmask is not None:
        _sigmask(_SIG_BLOCK, _DEFERRED, None)


def _sleep(sleep, secs):
    # sleep(secs) while waiting for a lock, holding none of it: the main thread taking its first hold lets
    # deferred signals in meanwhile (Ctrl-C ends the wait), and defers them again after
    if _HELD[0] != 1 or _ident() != _MAIN[0] or _sigmask is None:
        return sleep(secs)
    _sigmask(_SIG_SETMASK, _SAVED, None)
    try:
        return sleep(secs)
    finally:
        _sigmask(_SIG_BLOCK, _DEFERRED, None)


_LONGEST_NAP = 86400.0  # seconds: a longer freq (even inf) naps this long, so the sleep's time fits a timespec
_SHORTEST_NAP = 0.05  # seconds: a shorter freq would only spin (futex waits wake at once)


class _Timespec(ctypes.Structure):
    _fields_ = [('sec', ctypes.c_long), ('nsec', ctypes.c_long)]


def _futex_wait(addr, val, secs):
    ts = _Timespec(int(secs), int((secs % 1) * 1e9))
    _syscall(_NR_FUTEX, ctypes.c_void_p(addr), 0, ctypes.c_uint32(val), ctypes.byref(ts), None, 0)


def _ofd(fd, kind, start, wait=True):
    # one byte's open-file-description lock: fcntl.F_RDLCK, F_WRLCK or F_UNLCK; without wait an
    # OSError (EAGAIN) when another open of the file holds it. fcntl() releases the GIL and retries on EINTR
    fcntl.fcntl(fd, _F_OFD_SETLKW if wait else _F_OFD_SETLK, struct.pack(_FLOCK, kind, 0, start, 1, 0))


def _own_open(fd):
    # a new open of the file behind fd: its own open file description, so locks on it are its own (a forked
    # child shares its parent's descriptions); never mapped, so no mapping keeps its locks alive
    try:
        return os.open('/proc/self/fd/%d' % fd, os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return os.dup(fd)  # no /proc: the locks are shared with a forked child


def _futex_wake(addr):
    _syscall(_NR_FUTEX, ctypes.c_void_p(addr), 1, 0x7FFFFFFF, None, None, 0)


class _Unlinked(Exception):
    pass  # the companion was removed by its last user between our open() and our join: open it again


def _join(fd, m, proto, what, named, reset, user):
    # Every user of a companion holds a read lock on its byte 2; byte 1 serialises joining (and the
    # last user's unlink, see _leave). One who joins alone clears lock state left by users that are gone and
    # records its protocol; one who joins others must speak theirs, or the two paths would not exclude
    # each other. fd is the user's own open of the companion (_own_open); user: the user's file, for messages.
    _ofd(fd, fcntl.F_WRLCK, 1)
    try:
        if named and not _same_file(what, fd):
            raise _Unlinked()
        try:
            _ofd(fd, fcntl.F_WRLCK, 2, False)
            alone = True
        except OSError:
            alone = False
        if alone:
            reset(m)
            pack_into('<I', m, _PROTO, proto)
        else:
            theirs = unpack_from('<I', m, _PROTO)[0]
            if theirs != proto:
                raise SharedAreaError('%s is in use by processes with the %s lock; this one has the %s lock (set '
                                      'SHAREDAREA_PURE alike in all of them)'
                                      % (user, _PROTO_NAMES.get(theirs, str(theirs)), _PROTO_NAMES[proto]))
        _ofd(fd, fcntl.F_RDLCK, 2)
    finally:
        _ofd(fd, fcntl.F_UNLCK, 1)


def _same_file(path, fd):
    try:
        a, b = os.stat(path), os.fstat(fd)
    except FileNotFoundError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _check_linked(fd, key, path):
    # a companion removed while in use (systemd's RemoveIPC=yes does it when a user's last session ends)
    # splits the lock: newcomers make a new one. Say so instead of going on unprotected.
    if key is not None and os.fstat(fd).st_nlink == 0:
        raise SharedAreaError('the lock companion %s was removed while this process used it (systemd removes '
                              'a user\'s files in /dev/shm at logout unless RemoveIPC=no), so the lock no longer '
                              'excludes processes that opened the file since; close the area and add it again '
                              '(in every process)' % path)


def _leave(fd, path):
    # the last user of a file's companion removes it, so /dev/shm does not fill up with them; joining
    # and this unlink are serialised on byte 1, and a joiner that finds its companion unlinked starts over
    try:
        _ofd(fd, fcntl.F_WRLCK, 1)
        _ofd(fd, fcntl.F_WRLCK, 2, False)
    except OSError:
        return  # others still use it
    if _same_file(path, fd):
        try:
            os.unlink(path)
        except PermissionError:
            pass  # another user's, in a sticky directory: it stays, and the next user trusts it or says why


class _Sync:
    # Reader/writer lock that nests for its holder, plus the update counter and wait().
    # In a process: a Condition keeps who holds what (thread id -> depth). Between processes: an fcntl
    # lock on the companion's byte 0, shared while this process has readers, exclusive for a writer.
    PROTOCOL = 4

    @staticmethod
    def _reset_meta(m):
        # taking the companion over alone: lock state left by users that are gone goes, the count stays
        m[8:_META] = bytes(_META - 8)

    def _open(self, fd, key, what, user):
        # map the companion and join its users (both lock paths); locks go on lfd, an open of our own
        self.fd = fd
        self.key = key
        self.path = what
        self.refs = 1
        self._m = mmap.mmap(fd, _META)
        self.lfd = _own_open(fd)
        try:
            _join(self.lfd, self._m, self.PROTOCOL, what, key is not None, self._reset_meta, user or what)
        except BaseException:
            self._m.close()
            os.close(self.lfd)
            raise

    def __init__(self, fd, key=None, what='the area', user=None):
        self._open(fd, key, what, user)
        self._w = ctypes.c_uint32.from_buffer(self._m) if _NR_FUTEX else None
        self._addr = ctypes.addressof(self._w) if _NR_FUTEX else 0
        self._reset()
        _SYNCS.add(self)

    _gone = False  # closed: a thread that waited for the lock must not lock the closed fd, nor wait on it

    def _gone_error(self):
        raise SharedAreaError('the area is closed (by another thread, while this one waited)')

    def _reset(self):
        # also run in a forked child: it holds nothing the parent held. The Condition's lock is an RLock, whose
        # enter, exit and restore-after-wait are C calls, and `with self._lk` (not the Condition's Python
        # __enter__) takes it, so no signal handler can come between taking it and owning it
        self._lk = threading.RLock()
        self._c = threading.Condition(self._lk)
        self._wr = None  # thread holding the write side
        self._wd = 0  # its depth (wlock, ops and rlock calls nested inside it)
        self._rd = {}  # thread -> rlock depth
        self._taking = False  # the process's first reader is taking the read side between processes

    # -- holds: the public entries defer signals in the main thread (see _DEFERRED), the _ ones do the work

    def enter_write(self):
        self._take(self._enter_write)

    def enter_read(self):
        self._take(self._enter_read)

    lock_read = enter_read
    lock_write = enter_write

    def _take(self, take):
        if _ident() != _MAIN[0] or _sigmask is None:
            return take()  # no signal handler runs in other threads
        if _OWED[0]:
            _resume(0)
        try:
            _HELD[0] += 1  # counted first: whatever raises below, the except undoes both
            if _HELD[0] == 1:
                _sigmask(_SIG_BLOCK, _DEFERRED, _SAVED)  # (a handler due from before may raise just after)
            take()
        except BaseException:
            _HELD[0] -= 1
            if not _HELD[0]:
                _sigmask(_SIG_SETMASK, _SAVED, None)
            raise

    def unlock(self):
        # leave the innermost hold of this thread; False when it holds nothing. The main thread's last hold
        # going lets deferred signals in: their handlers run here, after the lock is let go
        held = True
        try:
            held = self._unlock()
            return held
        finally:
            if held:
                _resume()

    leave = unlock

    def _turn(self):
        # under self._lk: sleep until another thread of this process lets go (bounded, so a notify lost to
        # a signal in another thread costs a moment, not for ever)
        _sleep(self._c.wait, _TURN)

    def _enter_write(self):
        me = _ident()
        marked = False
        try:
            with self._lk:
                if self._wr == me:
                    self._wd += 1
                    return
                if me in self._rd:
                    raise SharedAreaError('this thread holds rlock on the area; upgrading it to a write is '
                                          'refused (unlock first)')
                while (self._wr is not None or self._rd or self._taking) and not self._gone:
                    self._turn()
                if self._gone:
                    self._gone_error()
                # this process's write side is this thread's; the side between processes comes next
                self._wr, self._wd, marked = me, 1, True
                if self._try(fcntl.F_WRLCK):
                    return
            self._between(fcntl.F_WRLCK)
        except BaseException:
            self._undo(me, marked, False)
            raise

    def _enter_read(self):
        me = _ident()
        taking = False
        try:
            with self._lk:
                if self._wr == me:
                    self._wd += 1
                    return
                d = self._rd.get(me)
                if d:
                    self._rd[me] = d + 1
                    return
                while (self._wr is not None or self._taking) and not self._gone:
                    self._turn()
                if self._gone:
                    self._gone_error()
                if self._rd or self._try(fcntl.F_RDLCK):
                    self._rd[me] = 1  # this process has the read side between processes (already, or now)
                    return
                # the first reader: the others of this process wait while it takes that side
                self._taking = taking = True
            self._between(fcntl.F_RDLCK)
            with self._lk:
                if self._gone:
                    self._gone_error()  # closed just now: closing the descriptor let the lock go
                self._rd[me] = 1
                self._taking = taking = False
                self._c.notify_all()
        except BaseException:
            self._undo(me, False, taking)
            raise

    def _undo(self, me, wrote, took):
        # a take that failed (an error, or a signal handler that raised part-way): this thread's mark goes,
        # and if by the records this process then holds nothing, nor does it between processes (the take may
        # have got that lock just before the exception)
        with self._lk:
            if wrote and self._wr == me:  # (not when close() dropped it meanwhile)
                self._wr = None
                self._wd = 0
            if took:
                self._taking = False
            if self._wr is None and not self._rd and not self._taking and not self._gone:
                _ofd(self.lfd, fcntl.F_UNLCK, 0)
            self._c.notify_all()

    def _try(self, kind):
        # under self._lk: the lock between processes on byte 0 if no other process has it; False if one has
        try:
            _ofd(self.lfd, kind, 0, False)
            return True
        except OSError:
            _check_linked(self.fd, self.key, self.path)
            return False

    def _between(self, kind):
        # the lock between processes, on byte 0 (this thread has this process's side): while another
        # process has it, tried again after naps that grow to _NAP, not waited for in the kernel, so that
        # this process's other threads go on meanwhile, a close() ends the wait within a nap, and the main
        # thread lets signals in while it naps, holding nothing
        nap, tries = 0, 0
        while True:
            with self._lk:  # (close() sets _gone under it before it closes the descriptor)
                if self._gone:
                    self._gone_error()
                if self._try(kind):
                    return
            _sleep(time.sleep, nap)
            tries += 1
            if tries > _YIELDS:
                nap = min(max(nap * 2, _FIRST_NAP), _NAP)

    def _unlock(self):
        me = _ident()
        with self._lk:
            if self._wr == me:
                self._wd -= 1
                if not self._wd:
                    self._wr = None
                    _ofd(self.lfd, fcntl.F_UNLCK, 0)
                    self._c.notify_all()
                return True
            d = self._rd.get(me)
            if not d:
                return False
            if d > 1:
                self._rd[me] = d - 1
            else:
                del self._rd[me]
                if not self._rd:
                    _ofd(self.lfd, fcntl.F_UNLCK, 0)
                    self._c.notify_all()
            return True

    def bump(self):
        # called with the write side held; wakes waiters while any are counted in (never clears their count)
        m = self._m
        try:
            pack_into('<Q', m, 0, (unpack_from('<Q', m, 0)[0] + 1) & 0xFFFFFFFFFFFFFFFF)
            waiters = unpack_from('<I', m, _WAITERS)[0]
        except ValueError:
            self._gone_error()  # close() in another thread closed the companion's mapping
        if _NR_FUTEX and waiters:
            _futex_wake(self._addr)

    def count(self):
        try:
            return unpack_from('<Q', self._m, 0)[0]
        except ValueError:
            self._gone_error()  # close() in another thread closed the companion's mapping

    def _count_waiter(self, n):
        # wait() counts itself in (n = 1) and out (n = -1); waiters of every process add under the byte-3 lock,
        # taken as a hold (signals deferred in the main thread: a handler cannot leave byte 3 locked)
        self._take(partial(self._add_waiters, n))
        _resume()

    def _add_waiters(self, n):
        # byte 3 excludes other processes; threads of this one share its open of the companion, so they are
        # excluded by self._lk (else two counting in at once could lose one, and its wake-ups with it)
        m = self._m
        with self._lk:
            if self._gone:  # closed by another thread (which set _gone under _lk before unmapping)
                if n > 0:
                    self._gone_error()
                return  # counting out of a closed area: the count went with it
            _ofd(self.lfd, fcntl.F_WRLCK, 3)
            try:
                pack_into('<I', m, _WAITERS, (unpack_from('<I', m, _WAITERS)[0] + n) & 0xFFFFFFFF)
            finally:
                _ofd(self.lfd, fcntl.F_UNLCK, 3)

    def wait(self, freq, timeout, since=None):
        if self._gone:
            self._gone_error()
        c0 = self.count() if since is None else since
        self._count_waiter(1)
        try:
            return self._wait(c0, freq, timeout)
        except ValueError:
            self._gone_error()  # close() in another thread closed the companion's mapping
        finally:
            if not self._gone:
                self._count_waiter(-1)

    def _wait(self, c0, freq, timeout):
        end = time.monotonic() + timeout if timeout else None
        # with a futex, updates wake us (freq is only a safety net against a store the updater's load passed)
        step = min(max(freq / 1000.0, _SHORTEST_NAP if _NR_FUTEX else 0.001), _LONGEST_NAP)
        while True:
            if self._gone:
                self._gone_error()
            if self.count() != c0:
                return True
            t = step
            if end is not None:
                t = end - time.monotonic()
                if t <= 0:
                    return False
                t = min(t, step)
            if _NR_FUTEX:
                # the step bounds the cost of a wake lost between another process's store and load
                _futex_wait(self._addr, c0 & 0xFFFFFFFF, t)
            else:
                time.sleep(t)

    def _forget(self):
        # every hold of this process goes (other processes can lock at once); its waiters raise
        with self._lk:
            self._gone = True
            main = _MAIN[0]
            mine = (self._wd if self._wr == main else 0) + self._rd.get(main, 0)
            if mine and _sigmask is not None:
                _OWED[0] += mine  # the main thread's holds here: counted out at its next hold or unlock
            if self._wr is not None or self._rd or self._taking:
                self._wr = None
                self._wd = 0
                self._rd = {}
                self._taking = False
                _ofd(self.lfd, fcntl.F_UNLCK, 0)
            self._c.notify_all()
        if _NR_FUTEX:
            _futex_wake(self._addr)  # a wait() in another thread wakes and says the area is closed

    def close(self):
        # as a hold of its own: a signal deferred by this thread's holds is delivered once all is closed, so
        # its handler cannot cut the closing short (and leave the companion open)
        self._take(_nothing)
        try:
            while self.unlock():
                pass  # what this thread still holds is let go, so nothing stays locked
            self._close()
        finally:
            _resume()

    def _close(self):
        with _TABLE:
            self.refs -= 1
            if self.refs:
                return
            if self.key is not None:
                _BY_KEY.pop(self.key, None)
        _SYNCS.discard(self)
        self._forget()
        self._w = None
        try:
            self._m.close()
        except BufferError:
            pass  # a wait() in another thread still has it; it goes with the last reference
        if self.key is not None:
            _leave(self.lfd, self.path)
        os.close(self.lfd)  # drops every lock this process still had
        os.close(self.fd)


class _FastSync(_Sync):
    # the same companion and counter, locked by the _fast extension: its methods are the C ones
    PROTOCOL = _fast.PROTOCOL if _fast else 3

    @staticmethod
    def _reset_meta(m):
        _fast.reset(m)

    def __init__(self, fd, key=None, what='the area', user=None):
        self._open(fd, key, what, user)
        self._w = None
        self.c = c = _fast.Sync(self._m, self.lfd, fd if key is not None else -1, what)
        self.enter_read, self.enter_write, self.leave = c.enter_read, c.enter_write, c.leave
        self.lock_read, self.lock_write, self.unlock = c.lock_read, c.lock_write, c.unlock
        self.bump, self.count, self.wait = c.bump, c.count, c.wait
        _SYNCS.add(self)

    def _reset(self):
        pass  # in a forked child the extension forgets the parent's holds itself (pthread_atfork)

    def _forget(self):
        self.c.forget()  # a wait() in another thread wakes and says the area is closed
        # let go of the compiled Sync, and with it of its hold on the page, so close() can unmap it: a closed
        # area's record keeps no mapping and no fd (a thread still inside wait() keeps it until it returns)
        self.c = None
        self.enter_read = self.enter_write = self.lock_read = self.lock_write = self.count = self.wait = _closed
        self.leave = self.bump = _nothing
        self.unlock = _held_nothing


def _closed(*args):
    raise SharedAreaError('the area is closed')


def _nothing():
    pass  # closing dropped every hold and the counter with them


def _held_nothing():
    return False


_SyncClass = _FastSync if _fast else _Sync
_SYNCS = weakref.WeakSet()
def _after_fork():
    # the child's lfd is its parent's open of the companion, locks and all: it gets an open of its own, so
    # it holds nothing of the parent's and its parent's locks go when the parent dies
    if _HELD[0] and _ident() == _MAIN[0] and _sigmask is not None:
        _sigmask(_SIG_SETMASK, _SAVED, None)  # forked while holding: the child holds nothing, defers nothing
    _HELD[0] = _OWED[0] = 0
    _MAIN[0] = _ident()
    for s in list(_SYNCS):
        s._reset()
        try:
            fd = _own_open(s.fd)
            os.dup2(fd, s.lfd, inheritable=False)
            os.close(fd)
            if s.key is not None:
                _ofd(s.lfd, fcntl.F_RDLCK, 2)  # the child is a user of the companion too
        except OSError:
            pass


os.register_at_fork(after_in_child=_after_fork)

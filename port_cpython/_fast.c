/* sharedarea.port_cpython._fast: the CPython port's compiled fast path (Linux). One call = one C function:
 * bounds checks, a process-shared reader/writer lock in the companion ("meta") page, the op, the update
 * counter bump and its futex wake. Anything unusual (wrong types, out of range, closed) is handed back to
 * the pure-Python method of the SharedArea, so errors and messages stay the core's.
 *
 * The lock lives in the meta page ("the companion"), next to the update counter (layout, also in
 * docs/ports.md):
 *   0   u64 updates not kept in a slot (folded in from slots when a companion is taken over alone)
 *   16  u32 wake word: wait() sleeps on it; an update adds one to it only when someone waits
 *   20  u32 waiters: wait() calls counted in and out, so an update never clears another's mark
 *   24  u32 protocol: written and checked by the Python side (3 = this lock)
 *   64  u32 owner: (generation << 8) | (slot + 1) of the process whose thread holds the write side, 0 = free
 *   68  u32 sleepers on owner (so a release only makes the wake syscall when someone sleeps)
 *   72  u32 slots in use (high-water mark)
 *   128 + 64*i  slot i, one cache line per process: u32 read holds (a futex word), u32 generation,
 *       u64 that process's updates (the update counter is their sum, so updaters share no line)
 * A process claims a slot by an open-file-description lock on byte 4096 + i of the companion (its own open
 * of it, never mapped, given by the Python side) and keeps it while it lives: the kernel drops that lock
 * when the process dies, in whatever pid namespace, and F_OFD_GETLK tells a waiter so. Claiming a slot
 * whose process is gone clears what that process held and starts a new generation, so an owner word
 * left by an earlier user of the slot is never taken for the new one's (no pids: no reuse, no namespaces).
 * A reader adds 1 to its slot, then looks at owner; a writer sets owner, then waits for every slot to
 * drain. Both steps are sequentially consistent atomics, so one of the two always sees the other.
 * A waiting locker checks the holder's slot lock when a nap times out (every 50 ms).
 * Who in this process holds what (thread id, nesting depth) is kept here, guarded by the GIL. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#if !defined(__linux__) || defined(Py_GIL_DISABLED)
#error "the fast path needs Linux futexes and the GIL; the pure-Python port is used instead"
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef F_OFD_GETLK
#define F_OFD_GETLK 36
#define F_OFD_SETLK 37
#define F_OFD_SETLKW 38
#endif

#define M_BASE 0
#define M_WAKE 16
#define M_WAITERS 20
#define M_OWNER 64
#define M_SLEEP 68
#define M_NSLOTS 72
#define M_SLOTS 128
#define SLOT_SIZE 64
#define NSLOTS 62
#define SLOT_LOCKS 4096 /* byte SLOT_LOCKS + i of the companion: locked by slot i's process while it lives */
#define META_SIZE 4096
#define SPIN 400
#define NAP 0.05 /* seconds between liveness checks of a holder while waiting */
#define SHORTEST_NAP 0.05 /* wait()'s freq is only a safety net here: the futex wakes it at once */
#define LONGEST_NAP 86400.0 /* seconds: wait() sleeps at most this long at a time, as the pure path does */

#define LOAD(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define ADD(p, v) __atomic_add_fetch((p), (v), __ATOMIC_SEQ_CST)
#define SUB(p, v) __atomic_sub_fetch((p), (v), __ATOMIC_SEQ_CST)
#define CAS(p, e, v) __atomic_compare_exchange_n((p), (e), (v), 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)

#if defined(__x86_64__) || defined(__i386__)
#define RELAX() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define RELAX() __asm__ __volatile__("yield")
#else
#define RELAX() ((void)0)
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define LOW_HALF 0
#else
#define LOW_HALF 1
#endif

static PyObject *SharedAreaError;

static int futex_wait(uint32_t *a, uint32_t v, double secs)
{
    struct timespec ts;
    ts.tv_sec = (time_t)secs;
    ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
    if (syscall(SYS_futex, a, FUTEX_WAIT, v, &ts, NULL, 0) == -1)
        return errno;
    return 0;
}

static void futex_wake(uint32_t *a)
{
    syscall(SYS_futex, a, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* ------------------------------------------------------------------ the lock */

typedef struct {
    unsigned long tid;
    long depth;
} rhold;

typedef struct SyncObject {
    PyObject_HEAD
    Py_buffer meta;
    char *m;
    int lfd; /* this process's own open of the companion: its slot's lock */
    uint64_t *base;
    uint32_t *wake, *waiters, *owner, *sleepers, *nslots;
    int slot; /* -1: not claimed yet */
    uint32_t me; /* the owner word's value for this process: (generation << 8) | (slot + 1) */
    int gone; /* closed by the port: every waiter of this process stops with the closed error */
    int fd; /* the companion file, checked at each lock wait that it is still linked (-1: none) */
    PyObject *what; /* its path, for that error */
    unsigned long wr_tid;
    long wdepth;
    rhold *rd;
    Py_ssize_t nrd, cap;
    struct SyncObject *next, *prev;
} SyncObject;

static SyncObject *all_syncs; /* every live Sync, so a forked child can forget what its parent held */

static uint64_t *slot_at(SyncObject *s, int i)
{
    return (uint64_t *)(s->m + M_SLOTS + SLOT_SIZE * i);
}

/* the low half of a slot's first word (its read holds) as a futex word */
static uint32_t *slot_word(SyncObject *s, int i)
{
    return (uint32_t *)slot_at(s, i) + LOW_HALF;
}

static uint64_t *slot_updates(SyncObject *s, int i)
{
    return slot_at(s, i) + 1;
}

static int gone_error(void)
{
    PyErr_SetString(SharedAreaError, "the area is closed (by another thread, while this one waited)");
    return -1;
}

/* sleep while *a == v, for at most secs, without the GIL; 1 = timed out, 0 = woken or changed,
 * -1 = a signal handler raised or the area was closed meanwhile (exception set) */
static int nap(SyncObject *s, uint32_t *a, uint32_t v, double secs)
{
    int r;
    Py_BEGIN_ALLOW_THREADS
    r = futex_wait(a, v, secs);
    Py_END_ALLOW_THREADS
    if (PyErr_CheckSignals())
        return -1;
    if (s->gone)
        return gone_error();
    return r == ETIMEDOUT;
}

static int lock_byte(int fd, int cmd, short type, off_t at)
{
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = at;
    fl.l_len = 1;
    if (fcntl(fd, cmd, &fl) == -1)
        return -1;
    return cmd == F_OFD_GETLK ? fl.l_type : 0;
}

/* is the process of slot i alive? Its open of the companion holds the slot's lock while it lives */
static int slot_alive(SyncObject *s, int i)
{
    if (i == s->slot)
        return 1;
    int t = lock_byte(s->lfd, F_OFD_GETLK, F_WRLCK, SLOT_LOCKS + i);
    return t == -1 || t != F_UNLCK; /* cannot tell: alive */
}

/* is the holder named by owner word v gone? (its slot is free, or was claimed anew since) */
static int owner_dead(SyncObject *s, uint32_t v)
{
    int i = (int)(v & 0xff) - 1;
    if (i < 0 || i >= NSLOTS)
        return 1;
    uint32_t gen = (uint32_t)(LOAD(slot_at(s, i)) >> 32);
    if ((gen & 0xffffff) != v >> 8)
        return 1;
    return !slot_alive(s, i);
}

static void wake_owner_sleepers(SyncObject *s)
{
    if (LOAD(s->sleepers))
        futex_wake(s->owner);
}

/* take a free slot (or one whose process is gone) for this process, for as long as it lives */
static int claim_slot(SyncObject *s)
{
    for (int i = 0; i < NSLOTS; i++) {
        if (lock_byte(s->lfd, F_OFD_SETLK, F_WRLCK, SLOT_LOCKS + i) == -1)
            continue; /* another live process has it */
        /* whoever had it is gone: its read holds go, and a new generation tells its owner word apart */
        uint64_t *p = slot_at(s, i), v = LOAD(p), n;
        do
            n = (uint64_t)((uint32_t)(v >> 32) + 1) << 32;
        while (!CAS(p, &v, n));
        s->slot = i;
        s->me = (((uint32_t)(n >> 32) & 0xffffff) << 8) | (uint32_t)(i + 1);
        uint32_t o = LOAD(s->owner);
        if (o && (o & 0xff) == (uint32_t)(i + 1) && CAS(s->owner, &o, 0))
            wake_owner_sleepers(s); /* its write hold goes too */
        futex_wake(slot_word(s, i)); /* a writer waiting for its readers to drain looks again */
        uint32_t k = LOAD(s->nslots);
        while (k < (uint32_t)i + 1 && !CAS(s->nslots, &k, (uint32_t)i + 1))
            ;
        return 0;
    }
    PyErr_Format(SharedAreaError, "more than %d processes use this area at once: the compiled lock has %d slots "
                 "(SHAREDAREA_PURE=1 in all of them has no such limit)", NSLOTS, NSLOTS);
    return -1;
}

static inline int have_slot(SyncObject *s)
{
    if (s->gone)
        return gone_error();
    return s->slot >= 0 ? 0 : claim_slot(s);
}


/* before sleeping on the lock: a companion removed while in use (systemd's RemoveIPC) splits the lock,
 * since newcomers make a new one; say so instead of going on unprotected. 0 = fine, -1 = error set */
static int unlinked(SyncObject *s)
{
    struct stat st;
    if (s->fd < 0 || fstat(s->fd, &st) || st.st_nlink)
        return 0;
    PyErr_Format(SharedAreaError, "the lock companion %S was removed while this process used it (systemd removes "
                 "a user's files in /dev/shm at logout unless RemoveIPC=no), so the lock no longer excludes "
                 "processes that opened the file since; close the area and add it again (in every process)",
                 s->what ? s->what : Py_None);
    return -1;
}

/* wait until the owner word is free (or its holder is dead); 0 or -1 (exception set) */
static int await_owner(SyncObject *s, int *spins)
{
    uint32_t v;
    while ((v = LOAD(s->owner)) != 0) {
        if (v != s->me && *spins < SPIN) {
            (*spins)++;
            RELAX();
            continue;
        }
        if (unlinked(s))
            return -1;
        ADD(s->sleepers, 1);
        int r = nap(s, s->owner, v, NAP);
        SUB(s->sleepers, 1);
        if (r < 0)
            return -1;
        if (r == 1 && v != s->me && owner_dead(s, v)) {
            uint32_t e = v;
            if (CAS(s->owner, &e, 0))
                wake_owner_sleepers(s);
        }
    }
    return 0;
}

/* let the write side go; a compare-and-swap, so a hold taken over by others (they found this process
 * closed, its slot free) is never let go by mistake */
static void wr_release(SyncObject *s)
{
    uint32_t e = s->me;
    if (CAS(s->owner, &e, 0))
        wake_owner_sleepers(s);
}

/* take the write side: the owner word, then wait for every reader slot to drain */
static int wr_acquire(SyncObject *s)
{
    int spins = 0;
    if (have_slot(s))
        return -1;
    for (;;) {
        uint32_t v = 0;
        if (CAS(s->owner, &v, s->me))
            break;
        if (await_owner(s, &spins))
            return -1;
    }
    uint32_t n = LOAD(s->nslots);
    for (uint32_t i = 0; i < n && i < NSLOTS; i++) {
        uint64_t *p = slot_at(s, (int)i);
        spins = 0;
        for (;;) {
            uint64_t v = LOAD(p);
            uint32_t k = (uint32_t)v;
            if (!k)
                break;
            if (spins < SPIN && (int)i != s->slot) {
                spins++;
                RELAX();
                continue;
            }
            int r = unlinked(s) ? -1 : nap(s, slot_word(s, (int)i), k, NAP);
            if (r < 0) {
                wr_release(s);
                return -1;
            }
            if (r == 1 && !slot_alive(s, (int)i))
                CAS(p, &v, v & ~(uint64_t)0xffffffff); /* the dead process's read holds go */
        }
    }
    return 0;
}

static void rd_release(SyncObject *s)
{
    uint64_t v = SUB(slot_at(s, s->slot), 1);
    if (!(uint32_t)v && LOAD(s->owner))
        futex_wake(slot_word(s, s->slot));
}

/* take the read side: one more read hold in this process's slot, once no writer owns the lock */
static int rd_acquire(SyncObject *s)
{
    if (have_slot(s))
        return -1;
    uint64_t *p = slot_at(s, s->slot);
    int spins = 0;
    for (;;) {
        ADD(p, 1);
        if (!LOAD(s->owner))
            return 0;
        rd_release(s);
        if (await_owner(s, &spins))
            return -1;
    }
}

static Py_ssize_t find_rd(SyncObject *s, unsigned long me)
{
    for (Py_ssize_t i = 0; i < s->nrd; i++)
        if (s->rd[i].tid == me)
            return i;
    return -1;
}

/* around a single op; write: 0 a read, 1 a write, 2 an atomic read-modify-write of an aligned integer
 * (it needs only the shared side: wlock still excludes it, and other such ops need no exclusion).
 * 0 = nested in a hold of this thread, 1 = read side taken, 2 = write side taken, -1 = error set,
 * -2 = a write while this thread holds rlock (the core raises the error) */
static inline int op_enter(SyncObject *s, int write)
{
    unsigned long me = PyThread_get_thread_ident();
    if (s->wr_tid == me)
        return 0;
    if (s->nrd && find_rd(s, me) >= 0)
        return write ? -2 : 0;
    if (write == 1)
        return wr_acquire(s) ? -1 : 2;
    return rd_acquire(s) ? -1 : 1;
}

static inline void op_leave(SyncObject *s, int h)
{
    if (h == 1)
        rd_release(s);
    else if (h == 2)
        wr_release(s);
}

/* one more update, counted in this process's slot (held: a lock side, so the slot is claimed); the
 * shared wake word is touched only when someone waits */
static inline void bump(SyncObject *s)
{
    ADD(slot_updates(s, s->slot), 1);
    if (LOAD(s->waiters)) {
        ADD(s->wake, 1);
        futex_wake(s->wake);
    }
}

static uint64_t total(SyncObject *s)
{
    uint64_t t = LOAD(s->base);
    uint32_t n = LOAD(s->nslots);
    for (uint32_t i = 0; i < n && i < NSLOTS; i++)
        t += LOAD(slot_updates(s, (int)i));
    return t;
}

/* the core's sync interface: r/w enter (nesting), end leaves the innermost hold */
static PyObject *S_w(SyncObject *s, PyObject *unused)
{
    unsigned long me = PyThread_get_thread_ident();
    if (s->wr_tid == me) {
        s->wdepth++;
        Py_RETURN_NONE;
    }
    if (s->nrd && find_rd(s, me) >= 0) {
        PyErr_SetString(SharedAreaError, "this thread holds rlock on the area; upgrading it to a write is refused (unlock first)");
        return NULL;
    }
    if (wr_acquire(s))
        return NULL;
    s->wr_tid = me;
    s->wdepth = 1;
    Py_RETURN_NONE;
}

static PyObject *S_r(SyncObject *s, PyObject *unused)
{
    unsigned long me = PyThread_get_thread_ident();
    if (s->wr_tid == me) {
        s->wdepth++;
        Py_RETURN_NONE;
    }
    Py_ssize_t i = s->nrd ? find_rd(s, me) : -1;
    if (i >= 0) {
        s->rd[i].depth++;
        Py_RETURN_NONE;
    }
    /* room first: once the read side is taken, nothing may fail before it is recorded */
    if (s->nrd == s->cap) {
        Py_ssize_t cap = s->cap ? s->cap * 2 : 4;
        rhold *n = PyMem_Realloc(s->rd, cap * sizeof(rhold));
        if (!n)
            return PyErr_NoMemory();
        s->rd = n;
        s->cap = cap;
    }
    if (rd_acquire(s))
        return NULL;
    /* the acquire may have let other threads run, and they may have grown the table: it has room still */
    if (s->nrd == s->cap) {
        rd_release(s);
        PyErr_SetString(PyExc_RuntimeError, "sharedarea: read-hold table full");
        return NULL;
    }
    s->rd[s->nrd].tid = me;
    s->rd[s->nrd].depth = 1;
    s->nrd++;
    Py_RETURN_NONE;
}

static PyObject *S_end(SyncObject *s, PyObject *unused)
{
    unsigned long me = PyThread_get_thread_ident();
    if (s->wr_tid == me) {
        if (!--s->wdepth) {
            s->wr_tid = 0;
            wr_release(s);
        }
        Py_RETURN_TRUE;
    }
    Py_ssize_t i = s->nrd ? find_rd(s, me) : -1;
    if (i < 0)
        Py_RETURN_FALSE;
    if (!--s->rd[i].depth) {
        s->rd[i] = s->rd[--s->nrd];
        rd_release(s);
    }
    Py_RETURN_TRUE;
}

static PyObject *S_bump(SyncObject *s, PyObject *unused)
{
    if (have_slot(s))
        return NULL;
    bump(s);
    Py_RETURN_NONE;
}

static PyObject *S_count(SyncObject *s, PyObject *unused)
{
    return PyLong_FromUnsignedLongLong(total(s));
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* wait(freq_ms, timeout_s, since=None): True once the counter differs from since (None: its value now),
 * False at the timeout (0 = none). The waiter counts itself in, so every update from then on wakes it
 * (sequentially consistent: the updater sees the count, or the waiter sees the update); freq, bounded
 * below, only cuts the sleep into naps. */
static PyObject *S_wait(SyncObject *s, PyObject *args)
{
    double freq, timeout;
    PyObject *since = Py_None, *res = NULL;
    if (!PyArg_ParseTuple(args, "dd|O", &freq, &timeout, &since))
        return NULL;
    if (s->gone) {
        gone_error();
        return NULL;
    }
    uint64_t c0 = total(s);
    if (since != Py_None) {
        c0 = PyLong_AsUnsignedLongLongMask(since);
        if (c0 == (uint64_t)-1 && PyErr_Occurred())
            return NULL;
    }
    double end = timeout > 0 ? now() + timeout : 0, step = freq / 1000.0;
    if (!(step <= LONGEST_NAP)) /* a longer (or infinite) period must still fit a timespec */
        step = LONGEST_NAP;
    if (step < SHORTEST_NAP)
        step = SHORTEST_NAP;
    ADD(s->waiters, 1);
    for (;;) {
        uint32_t w = LOAD(s->wake);
        if (total(s) != c0) {
            res = Py_True;
            break;
        }
        double t = step;
        if (end) {
            t = end - now();
            if (t <= 0) {
                res = Py_False;
                break;
            }
            if (t > step)
                t = step;
        }
        if (nap(s, s->wake, w, t) < 0)
            break;
    }
    SUB(s->waiters, 1);
    Py_XINCREF(res);
    return res;
}

/* the port closed the area: every hold this process has goes (other processes can lock at once), and
 * every thread of it that waits (for the lock, or in wait()) stops with the closed error */
static PyObject *S_forget(SyncObject *s, PyObject *unused)
{
    if (!s->m || s->gone)
        Py_RETURN_NONE;
    s->gone = 1;
    if (s->wr_tid) {
        s->wr_tid = 0;
        s->wdepth = 0;
        wr_release(s);
    }
    while (s->nrd)
        s->nrd--, rd_release(s);
    futex_wake(s->owner);
    futex_wake(s->wake);
    uint32_t n = LOAD(s->nslots);
    for (uint32_t i = 0; i < n && i < NSLOTS; i++)
        futex_wake(slot_word(s, (int)i));
    /* the slot goes now: the Python side closes lfd next, and its number may be reused at once */
    if (s->slot >= 0)
        lock_byte(s->lfd, F_OFD_SETLK, F_UNLCK, SLOT_LOCKS + s->slot);
    s->slot = -1;
    s->lfd = -1;
    s->fd = -1; /* the port closes it next */
    Py_RETURN_NONE;
}

/* what this process holds, for tests and the benchmark: (owner word, our slot, write depth, readers) */
static PyObject *S_state(SyncObject *s, PyObject *unused)
{
    return Py_BuildValue("(Iiln)", LOAD(s->owner), s->slot, s->wdepth, s->nrd);
}

static int S_init(SyncObject *s, PyObject *args, PyObject *kw)
{
    PyObject *obj, *what = Py_None;
    int lfd, fd = -1;
    if (!PyArg_ParseTuple(args, "Oi|iO", &obj, &lfd, &fd, &what))
        return -1;
    if (s->m) {
        PyErr_SetString(PyExc_TypeError, "Sync is already set up");
        return -1;
    }
    if (PyObject_GetBuffer(obj, &s->meta, PyBUF_WRITABLE) < 0)
        return -1;
    if (s->meta.len < META_SIZE || ((uintptr_t)s->meta.buf & 63)) {
        PyBuffer_Release(&s->meta);
        PyErr_SetString(PyExc_ValueError, "the meta buffer must be 4096 bytes, 64-byte aligned");
        return -1;
    }
    s->m = s->meta.buf;
    s->lfd = lfd;
    s->base = (uint64_t *)(s->m + M_BASE);
    s->wake = (uint32_t *)(s->m + M_WAKE);
    s->waiters = (uint32_t *)(s->m + M_WAITERS);
    s->owner = (uint32_t *)(s->m + M_OWNER);
    s->sleepers = (uint32_t *)(s->m + M_SLEEP);
    s->nslots = (uint32_t *)(s->m + M_NSLOTS);
    s->slot = -1;
    s->fd = fd;
    Py_INCREF(what);
    s->what = what;
    s->next = all_syncs;
    s->prev = NULL;
    if (all_syncs)
        all_syncs->prev = s;
    all_syncs = s;
    return 0;
}

static void S_dealloc(SyncObject *s)
{
    if (s->m) {
        /* leave what this process still holds, so the others go on */
        if (s->wr_tid)
            wr_release(s);
        while (s->nrd)
            s->nrd--, rd_release(s);
        if (s->slot >= 0 && s->lfd >= 0)
            lock_byte(s->lfd, F_OFD_SETLK, F_UNLCK, SLOT_LOCKS + s->slot);
        if (s->prev)
            s->prev->next = s->next;
        else
            all_syncs = s->next;
        if (s->next)
            s->next->prev = s->prev;
        PyBuffer_Release(&s->meta);
    }
    PyMem_Free(s->rd);
    Py_XDECREF(s->what);
    Py_TYPE(s)->tp_free((PyObject *)s);
}

static PyMethodDef S_methods[] = {
    {"enter_read", (PyCFunction)S_r, METH_NOARGS, "enter for reading, around one op (nests)"},
    {"enter_write", (PyCFunction)S_w, METH_NOARGS, "enter for writing, around one op (nests)"},
    {"lock_read", (PyCFunction)S_r, METH_NOARGS, "rlock"},
    {"lock_write", (PyCFunction)S_w, METH_NOARGS, "wlock"},
    {"leave", (PyCFunction)S_end, METH_NOARGS, "leave the innermost hold (after an op)"},
    {"unlock", (PyCFunction)S_end, METH_NOARGS, "leave the innermost hold; False when none"},
    {"bump", (PyCFunction)S_bump, METH_NOARGS, "bump the update counter (write side held)"},
    {"count", (PyCFunction)S_count, METH_NOARGS, "the update counter"},
    {"wait", (PyCFunction)S_wait, METH_VARARGS, "wait(freq_ms, timeout_s, since=None)"},
    {"forget", (PyCFunction)S_forget, METH_NOARGS, "closed: drop this process's holds, wake its waiters, which raise"},
    {"state", (PyCFunction)S_state, METH_NOARGS, "(owner word, slot, write depth, read holders)"},
    {NULL}};

static PyTypeObject SyncType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "sharedarea.port_cpython._fast.Sync",
    .tp_basicsize = sizeof(SyncObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Sync(meta, lfd, fd=-1, what=None): the process-shared lock, update counter and wait() over a 4096-byte "
              "meta page; lfd is this process's own open of the companion (never mapped), fd the named companion "
              "checked to be still linked at each lock wait, what its path",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)S_init,
    .tp_dealloc = (destructor)S_dealloc,
    .tp_methods = S_methods,
};

/* taking a companion over alone (every earlier user gone): the lock state goes, the updates stay */
static PyObject *M_reset(PyObject *mod, PyObject *arg)
{
    Py_buffer b;
    if (PyObject_GetBuffer(arg, &b, PyBUF_WRITABLE) < 0)
        return NULL;
    if (b.len < META_SIZE) {
        PyBuffer_Release(&b);
        PyErr_SetString(PyExc_ValueError, "the meta buffer must be 4096 bytes");
        return NULL;
    }
    char *m = b.buf;
    uint64_t t = LOAD((uint64_t *)(m + M_BASE));
    uint32_t n = LOAD((uint32_t *)(m + M_NSLOTS));
    for (uint32_t i = 0; i < n && i < NSLOTS; i++)
        t += LOAD((uint64_t *)(m + M_SLOTS + SLOT_SIZE * i) + 1);
    memset(m + 16, 0, META_SIZE - 16);
    STORE((uint64_t *)(m + M_BASE), t);
    PyBuffer_Release(&b);
    Py_RETURN_NONE;
}

static void after_fork_child(void)
{
    /* the child holds nothing of its parent's; it claims a slot of its own (on its own open of the
     * companion, which the Python side makes it) when it first locks */
    for (SyncObject *s = all_syncs; s; s = s->next) {
        s->slot = -1;
        s->me = 0;
        s->wr_tid = 0;
        s->wdepth = 0;
        s->nrd = 0;
    }
}

/* ------------------------------------------------------------------ the area's hot ops */

/* The base class of the port's SharedArea: the port's subclass lists it before the core's SharedArea, so
 * `area.inc64` finds these methods first (a plain method call, no per-instance binding). Attached to the
 * area's buffer and Sync by _attach(), let go by _detach() at close. */
typedef struct {
    PyObject_HEAD
    Py_buffer buf;
    int has_buf, closed, busy; /* busy: threads of this area asleep in the lock (they still use buf and s) */
    char *p;
    Py_ssize_t size;
    SyncObject *s;
} AreaObject;

static PyObject *CoreArea; /* the core's SharedArea, whose methods handle every unusual call */

static PyObject *slow(AreaObject *a, const char *name, PyObject *const *args, Py_ssize_t nargs, PyObject *kw)
{
    PyObject *f = PyObject_GetAttrString(CoreArea, name);
    if (!f)
        return NULL;
    Py_ssize_t nkw = kw ? PyTuple_GET_SIZE(kw) : 0;
    PyObject *small[8], **v = small;
    if (nargs + nkw + 1 > 8) {
        v = PyMem_Malloc((nargs + nkw + 1) * sizeof(PyObject *));
        if (!v) {
            Py_DECREF(f);
            return PyErr_NoMemory();
        }
    }
    v[0] = (PyObject *)a;
    for (Py_ssize_t i = 0; i < nargs + nkw; i++)
        v[i + 1] = args[i];
    PyObject *r = PyObject_Vectorcall(f, v, nargs + 1, kw);
    if (v != small)
        PyMem_Free(v);
    Py_DECREF(f);
    return r;
}

/* a closed area lets go of its buffer and Sync once no thread sleeps in its lock: it keeps no fd, no mapping */
static void area_let_go(AreaObject *a)
{
    if (!a->closed || a->busy)
        return;
    if (a->has_buf) {
        a->has_buf = 0;
        PyBuffer_Release(&a->buf);
    }
    Py_CLEAR(a->s);
}

/* lock around an op; after a wait the area may have been closed by another thread: then give up (-2) */
static inline int enter(AreaObject *a, int write)
{
    a->busy++;
    int h = op_enter(a->s, write);
    a->busy--;
    if (a->closed) {
        if (h >= 0)
            op_leave(a->s, h);
        area_let_go(a);
        return h >= 0 ? -2 : h;
    }
    return h;
}

/* pos as a C index, or -1 when the pure path must look at it */
static inline Py_ssize_t getpos(AreaObject *a, PyObject *o, Py_ssize_t n)
{
    if (a->closed || !PyLong_CheckExact(o))
        return -1;
    Py_ssize_t pos = PyLong_AsSsize_t(o);
    if (pos < 0) {
        PyErr_Clear();
        return -1;
    }
    if (pos >= a->size || n > a->size - pos)
        return -1;
    return pos;
}

static inline uint64_t ld(const char *q, int w)
{
    uint64_t v = 0;
    switch (w) {
    case 1: return (uint8_t)*q;
    case 2: { uint16_t x; memcpy(&x, q, 2); v = x; break; }
    case 4: { uint32_t x; memcpy(&x, q, 4); v = x; break; }
    default: memcpy(&v, q, 8);
    }
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    if (w == 2) v = __builtin_bswap16((uint16_t)v);
    else if (w == 4) v = __builtin_bswap32((uint32_t)v);
    else if (w == 8) v = __builtin_bswap64(v);
#endif
    return v;
}

static inline void st(char *q, int w, uint64_t v)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    if (w == 2) v = __builtin_bswap16((uint16_t)v);
    else if (w == 4) v = __builtin_bswap32((uint32_t)v);
    else if (w == 8) v = __builtin_bswap64(v);
#endif
    switch (w) {
    case 1: *q = (char)v; break;
    case 2: { uint16_t x = (uint16_t)v; memcpy(q, &x, 2); break; }
    case 4: { uint32_t x = (uint32_t)v; memcpy(q, &x, 4); break; }
    default: memcpy(q, &v, 8);
    }
}

static inline int64_t sign(uint64_t v, int w)
{
    if (w == 8)
        return (int64_t)v;
    int b = w * 8;
    v &= (1ULL << b) - 1;
    return (v >> (b - 1)) ? (int64_t)v - (int64_t)(1ULL << b) : (int64_t)v;
}

/* a value that fits w bytes, signed or unsigned, as raw bits; 0 = the pure path decides */
static inline int getval(PyObject *o, int w, uint64_t *out)
{
    if (!PyLong_CheckExact(o))
        return 0;
    int ovf;
    long long x = PyLong_AsLongLongAndOverflow(o, &ovf);
    if (ovf) {
        if (w != 8 || ovf < 0)
            return 0;
        unsigned long long u = PyLong_AsUnsignedLongLong(o);
        if (u == (unsigned long long)-1 && PyErr_Occurred()) {
            PyErr_Clear();
            return 0;
        }
        *out = u;
        return 1;
    }
    if (x == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    if (w < 8) {
        long long lo = -(1LL << (w * 8 - 1)), hi = 1LL << (w * 8);
        if (x < lo || x >= hi)
            return 0;
    }
    *out = (uint64_t)x;
    return 1;
}

/* an integer op can be one atomic instruction (under the shared side) where the integer is naturally
 * aligned (so within one cache line) and the machine is little-endian, as the area's integers are */
static inline int atomic_ok(const char *q, int w)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return ((uintptr_t)q & (uintptr_t)(w - 1)) == 0;
#else
    return 0;
#endif
}

static inline uint64_t atomic_add(char *q, int w, uint64_t v)
{
    switch (w) {
    case 1: return __atomic_add_fetch((uint8_t *)q, (uint8_t)v, __ATOMIC_SEQ_CST);
    case 2: return __atomic_add_fetch((uint16_t *)q, (uint16_t)v, __ATOMIC_SEQ_CST);
    case 4: return __atomic_add_fetch((uint32_t *)q, (uint32_t)v, __ATOMIC_SEQ_CST);
    default: return __atomic_add_fetch((uint64_t *)q, v, __ATOMIC_SEQ_CST);
    }
}

static inline void atomic_st(char *q, int w, uint64_t v)
{
    switch (w) {
    case 1: __atomic_store_n((uint8_t *)q, (uint8_t)v, __ATOMIC_SEQ_CST); break;
    case 2: __atomic_store_n((uint16_t *)q, (uint16_t)v, __ATOMIC_SEQ_CST); break;
    case 4: __atomic_store_n((uint32_t *)q, (uint32_t)v, __ATOMIC_SEQ_CST); break;
    default: __atomic_store_n((uint64_t *)q, v, __ATOMIC_SEQ_CST);
    }
}

static inline uint64_t atomic_ld(const char *q, int w)
{
    switch (w) {
    case 1: return __atomic_load_n((const uint8_t *)q, __ATOMIC_RELAXED);
    case 2: return __atomic_load_n((const uint16_t *)q, __ATOMIC_RELAXED);
    case 4: return __atomic_load_n((const uint32_t *)q, __ATOMIC_RELAXED);
    default: return __atomic_load_n((const uint64_t *)q, __ATOMIC_RELAXED);
    }
}

static inline PyObject *readN(AreaObject *a, PyObject *const *args, Py_ssize_t nargs, PyObject *kw, int w,
                              const char *name)
{
    Py_ssize_t pos;
    int h;
    if (nargs != 1 || kw || (pos = getpos(a, args[0], w)) < 0 || (h = enter(a, 0)) == -2)
        return slow(a, name, args, nargs, kw);
    if (h < 0)
        return NULL;
    const char *q = a->p + pos;
    uint64_t v = atomic_ok(q, w) ? atomic_ld(q, w) : ld(q, w);
    op_leave(a->s, h);
    return PyLong_FromLongLong(sign(v, w));
}

static inline PyObject *writeN(AreaObject *a, PyObject *const *args, Py_ssize_t nargs, PyObject *kw, int w,
                               const char *name)
{
    Py_ssize_t pos;
    uint64_t v;
    int h, at;
    if (nargs != 2 || kw || (pos = getpos(a, args[0], w)) < 0 || !getval(args[1], w, &v) ||
        (h = enter(a, (at = atomic_ok(a->p + pos, w)) ? 2 : 1)) == -2)
        return slow(a, name, args, nargs, kw);
    if (h < 0)
        return NULL;
    if (at)
        atomic_st(a->p + pos, w, v);
    else
        st(a->p + pos, w, v);
    bump(a->s);
    op_leave(a->s, h);
    Py_RETURN_NONE;
}

static inline PyObject *addN(AreaObject *a, PyObject *const *args, Py_ssize_t nargs, PyObject *kw, int w,
                             int neg, const char *name)
{
    Py_ssize_t pos;
    uint64_t v = 1;
    int h, at;
    if (nargs < 1 || nargs > 2 || kw || (pos = getpos(a, args[0], w)) < 0 || (nargs == 2 && !getval(args[1], w, &v)) ||
        (h = enter(a, (at = atomic_ok(a->p + pos, w)) ? 2 : 1)) == -2)
        return slow(a, name, args, nargs, kw);
    if (h < 0)
        return NULL;
    char *q = a->p + pos;
    uint64_t n;
    if (at) {
        n = atomic_add(q, w, neg ? (uint64_t)0 - v : v); /* under the shared side: other such ops run alongside */
    } else {
        n = neg ? ld(q, w) - v : ld(q, w) + v;
        st(q, w, n);
    }
    bump(a->s);
    op_leave(a->s, h);
    return PyLong_FromLongLong(sign(n, w));
}

#define OPS(W, B)                                                                                            \
    static PyObject *A_read##B(AreaObject *a, PyObject *const *g, Py_ssize_t n, PyObject *k)                 \
    {                                                                                                        \
        return readN(a, g, n, k, W, "read" #B);                                                              \
    }                                                                                                        \
    static PyObject *A_write##B(AreaObject *a, PyObject *const *g, Py_ssize_t n, PyObject *k)                \
    {                                                                                                        \
        return writeN(a, g, n, k, W, "write" #B);                                                            \
    }                                                                                                        \
    static PyObject *A_inc##B(AreaObject *a, PyObject *const *g, Py_ssize_t n, PyObject *k)                  \
    {                                                                                                        \
        return addN(a, g, n, k, W, 0, "inc" #B);                                                             \
    }                                                                                                        \
    static PyObject *A_dec##B(AreaObject *a, PyObject *const *g, Py_ssize_t n, PyObject *k)                  \
    {                                                                                                        \
        return addN(a, g, n, k, W, 1, "dec" #B);                                                             \
    }
OPS(1, 8)
OPS(2, 16)
OPS(4, 32)
OPS(8, 64)

static PyObject *A_read(AreaObject *a, PyObject *const *args, Py_ssize_t nargs, PyObject *kw)
{
    Py_ssize_t pos, n = 0;
    int h;
    if (nargs < 1 || nargs > 2 || kw || a->closed || !PyLong_CheckExact(args[0]))
        goto slow;
    if (nargs == 2) {
        if (!PyLong_CheckExact(args[1]) || (n = PyLong_AsSsize_t(args[1])) < 0) {
            PyErr_Clear();
            goto slow;
        }
    }
    if (!n) {
        pos = PyLong_AsSsize_t(args[0]);
        if (pos < 0 || pos >= a->size) {
            PyErr_Clear();
            goto slow;
        }
        n = a->size - pos;
    }
    if ((pos = getpos(a, args[0], n)) < 0)
        goto slow;
    PyObject *r = PyBytes_FromStringAndSize(NULL, n);
    if (!r)
        return NULL;
    if ((h = enter(a, 0)) == -2) {
        Py_DECREF(r);
        goto slow;
    }
    if (h < 0) {
        Py_DECREF(r);
        return NULL;
    }
    memcpy(PyBytes_AS_STRING(r), a->p + pos, n);
    op_leave(a->s, h);
    return r;
slow:
    return slow(a, "read", args, nargs, kw);
}

static PyObject *A_write(AreaObject *a, PyObject *const *args, Py_ssize_t nargs, PyObject *kw)
{
    Py_ssize_t pos;
    Py_buffer b;
    int h;
    if (nargs != 2 || kw || a->closed || PyUnicode_Check(args[1]) || !PyObject_CheckBuffer(args[1]))
        goto slow;
    if (PyObject_GetBuffer(args[1], &b, PyBUF_SIMPLE) < 0) {
        PyErr_Clear();
        goto slow;
    }
    if ((pos = getpos(a, args[0], b.len)) < 0 || (h = enter(a, 1)) == -2) {
        PyBuffer_Release(&b);
        goto slow;
    }
    if (h < 0) {
        PyBuffer_Release(&b);
        return NULL;
    }
    memmove(a->p + pos, b.buf, b.len);
    bump(a->s);
    op_leave(a->s, h);
    PyBuffer_Release(&b);
    Py_RETURN_NONE;
slow:
    return slow(a, "write", args, nargs, kw);
}

/* rlock()/wlock() return a small object for `with`, whose __enter__/__exit__ are C calls: once the lock is
 * taken, no Python code runs until the with-block is entered, so an asynchronous exception (a
 * KeyboardInterrupt, an alarm handler raising) cannot leave a hold behind. If one lands between wlock()'s
 * return and the with-block, the object is dropped unentered while that exception unwinds: the hold goes. */
typedef struct {
    PyObject_HEAD
    AreaObject *a;
    int entered; /* __enter__ ran (or the hold is not this object's to drop) */
} HeldObject;

static void H_dealloc(HeldObject *h)
{
    if (!h->entered && PyErr_Occurred() && !h->a->closed && h->a->s)
        Py_XDECREF(S_end(h->a->s, NULL));
    Py_DECREF(h->a);
    PyObject_Free(h);
}

static PyObject *H_enter(HeldObject *h, PyObject *unused)
{
    h->entered = 1;
    Py_INCREF(h->a);
    return (PyObject *)h->a;
}

static PyObject *A_unlock(AreaObject *a, PyObject *const *args, Py_ssize_t nargs, PyObject *kw);

static PyObject *H_exit(HeldObject *h, PyObject *args)
{
    h->entered = 1;
    PyObject *r = A_unlock(h->a, NULL, 0, NULL);
    if (!r)
        return NULL;
    Py_DECREF(r);
    Py_RETURN_FALSE;
}

static PyMethodDef H_methods[] = {
    {"__enter__", (PyCFunction)H_enter, METH_NOARGS, "the area"},
    {"__exit__", (PyCFunction)H_exit, METH_VARARGS, "unlock()"},
    {NULL}};

static PyTypeObject HeldType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "sharedarea.port_cpython._fast.Held",
    .tp_basicsize = sizeof(HeldObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "what rlock() and wlock() return: `with area.wlock():` unlocks on exit",
    .tp_dealloc = (destructor)H_dealloc,
    .tp_methods = H_methods,
};

static PyObject *A_lock(AreaObject *a, int write, const char *name)
{
    if (a->closed || !a->s)
        return slow(a, name, NULL, 0, NULL);
    HeldObject *h = PyObject_New(HeldObject, &HeldType); /* made first: nothing may fail once the lock is held */
    if (!h)
        return NULL;
    Py_INCREF(a);
    h->a = a;
    h->entered = 1;
    a->busy++;
    PyObject *r = write ? S_w(a->s, NULL) : S_r(a->s, NULL);
    a->busy--;
    if (!r) {
        Py_DECREF(h);
        return NULL;
    }
    Py_DECREF(r);
    if (a->closed) {
        /* closed by another thread while this one waited: a hold on a closed area could never be let go */
        Py_XDECREF(S_end(a->s, NULL));
        area_let_go(a);
        Py_DECREF(h);
        return slow(a, name, NULL, 0, NULL);
    }
    /* a signal that came while this thread waited: its handler runs here, and if it raises, the hold goes */
    if (PyErr_CheckSignals()) {
        Py_XDECREF(S_end(a->s, NULL));
        Py_DECREF(h);
        return NULL;
    }
    h->entered = 0;
    return (PyObject *)h;
}

/* rlock/wlock/unlock take no arguments: any given go to the core's method, for its TypeError */
static PyObject *A_rlock(AreaObject *a, PyObject *const *args, Py_ssize_t nargs, PyObject *kw)
{
    if (nargs || kw)
        return slow(a, "rlock", args, nargs, kw);
    return A_lock(a, 0, "rlock");
}

static PyObject *A_wlock(AreaObject *a, PyObject *const *args, Py_ssize_t nargs, PyObject *kw)
{
    if (nargs || kw)
        return slow(a, "wlock", args, nargs, kw);
    return A_lock(a, 1, "wlock");
}

static PyObject *A_unlock(AreaObject *a, PyObject *const *args, Py_ssize_t nargs, PyObject *kw)
{
    if (nargs || kw || a->closed || !a->s)
        return slow(a, "unlock", args, nargs, kw);
    PyObject *r = S_end(a->s, NULL);
    if (r == Py_True) {
        Py_DECREF(r);
        Py_RETURN_NONE;
    }
    Py_XDECREF(r);
    return slow(a, "unlock", NULL, 0, NULL); /* holds nothing: the core raises its error */
}

static PyObject *A_detach(AreaObject *a, PyObject *unused)
{
    a->closed = 1;
    area_let_go(a);
    Py_RETURN_NONE;
}

static PyObject *A_attach(AreaObject *a, PyObject *args)
{
    PyObject *buf;
    SyncObject *s;
    if (!PyArg_ParseTuple(args, "OO!", &buf, &SyncType, &s))
        return NULL;
    if (a->has_buf || a->s || a->closed) {
        PyErr_SetString(PyExc_TypeError, "the area is already attached");
        return NULL;
    }
    if (PyObject_GetBuffer(buf, &a->buf, PyBUF_WRITABLE) < 0)
        return NULL;
    a->has_buf = 1;
    a->p = a->buf.buf;
    a->size = a->buf.len;
    Py_INCREF(s);
    a->s = s;
    Py_RETURN_NONE;
}

static int A_traverse(AreaObject *a, visitproc visit, void *arg)
{
    return 0; /* holds no Python object that could be in a cycle (the subclass visits its own dict and type) */
}

static void A_dealloc(AreaObject *a)
{
    PyObject_GC_UnTrack(a);
    a->closed = 1;
    a->busy = 0;
    area_let_go(a);
    Py_TYPE(a)->tp_free((PyObject *)a);
}

#define FC (PyCFunction)(void (*)(void))
#define FAST METH_FASTCALL | METH_KEYWORDS
#define ROW(B)                                                                                               \
    {"read" #B, FC A_read##B, FAST, NULL}, {"write" #B, FC A_write##B, FAST, NULL},                          \
        {"inc" #B, FC A_inc##B, FAST, NULL}, {"dec" #B, FC A_dec##B, FAST, NULL},

static PyMethodDef A_methods[] = {
    ROW(8) ROW(16) ROW(32) ROW(64)
    {"read", FC A_read, FAST, NULL},
    {"write", FC A_write, FAST, NULL},
    {"rlock", FC A_rlock, FAST, NULL},
    {"wlock", FC A_wlock, FAST, NULL},
    {"unlock", FC A_unlock, FAST, NULL},
    {"_attach", (PyCFunction)A_attach, METH_VARARGS, "_attach(buffer, sync): the memory and lock the ops use"},
    {"_detach", (PyCFunction)A_detach, METH_NOARGS, "closed: let go of the buffer and the Sync"},
    {NULL}};

static PyTypeObject AreaType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "sharedarea.port_cpython._fast.Area",
    .tp_basicsize = sizeof(AreaObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "compiled read/write/readN/writeN/incN/decN, the base the port's SharedArea puts first",
    .tp_new = PyType_GenericNew,
    .tp_dealloc = (destructor)A_dealloc,
    .tp_traverse = (traverseproc)A_traverse,
    .tp_methods = A_methods,
};

/* ------------------------------------------------------------------ uWSGI's function form */

/* sharedarea_<op>(id, ...): looks the id up in the port's list of Areas (index = id) and makes the
 * Area's call; any other id (unknown, not compiled, not an int) goes to the core's Python function */
typedef PyObject *(*areafn)(AreaObject *, PyObject *const *, Py_ssize_t, PyObject *);

typedef struct {
    PyObject_HEAD
    areafn fn;
    PyObject *areas, *fallback;
} FnObject;

static void F_dealloc(FnObject *f)
{
    Py_XDECREF(f->areas);
    Py_XDECREF(f->fallback);
    Py_TYPE(f)->tp_free((PyObject *)f);
}

static PyTypeObject FnType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "sharedarea.port_cpython._fast.Fn",
    .tp_basicsize = sizeof(FnObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_dealloc = (destructor)F_dealloc,
};

static PyObject *F_call(FnObject *f, PyObject *const *args, Py_ssize_t nargs, PyObject *kw)
{
    /* keywords go to the core's function (it knows uWSGI's len=) */
    if (nargs >= 1 && !kw && PyLong_CheckExact(args[0])) {
        Py_ssize_t id = PyLong_AsSsize_t(args[0]);
        if (id >= 0 && id < PyList_GET_SIZE(f->areas)) {
            PyObject *a = PyList_GET_ITEM(f->areas, id);
            if (PyObject_TypeCheck(a, &AreaType) && !((AreaObject *)a)->closed) {
                /* the op may sleep without the GIL while configure() drops the list's reference */
                Py_INCREF(a);
                PyObject *r = f->fn((AreaObject *)a, args + 1, nargs - 1, kw);
                Py_DECREF(a);
                return r;
            }
        }
        PyErr_Clear();
    }
    return PyObject_Vectorcall(f->fallback, args, nargs, kw);
}

static struct {
    const char *op;
    areafn fn;
} FNS[] = {
#define FROW(B) {"read" #B, A_read##B}, {"write" #B, A_write##B}, {"inc" #B, A_inc##B}, {"dec" #B, A_dec##B},
    FROW(8) FROW(16) FROW(32) FROW(64)
    {"read", A_read}, {"write", A_write}, {NULL, NULL}};

/* one PyMethodDef per name, kept for the life of the process (a builtin function points at its def) */
static PyObject *M_function(PyObject *mod, PyObject *args)
{
    const char *name, *op;
    PyObject *areas, *fallback;
    if (!PyArg_ParseTuple(args, "ssO!O", &name, &op, &PyList_Type, &areas, &fallback))
        return NULL;
    for (int i = 0; FNS[i].op; i++) {
        if (strcmp(FNS[i].op, op))
            continue;
        FnObject *f = PyObject_New(FnObject, &FnType);
        if (!f)
            return NULL;
        f->fn = FNS[i].fn;
        Py_INCREF(areas);
        f->areas = areas;
        Py_INCREF(fallback);
        f->fallback = fallback;
        PyMethodDef *def = PyMem_Calloc(1, sizeof(PyMethodDef));
        char *nm = PyMem_Malloc(strlen(name) + 1);
        if (!def || !nm) {
            Py_DECREF(f);
            return PyErr_NoMemory();
        }
        strcpy(nm, name);
        def->ml_name = nm;
        def->ml_meth = (PyCFunction)(void (*)(void))F_call;
        def->ml_flags = METH_FASTCALL | METH_KEYWORDS;
        def->ml_doc = NULL;
        PyObject *r = PyCFunction_NewEx(def, (PyObject *)f, NULL);
        Py_DECREF(f);
        return r;
    }
    PyErr_Format(PyExc_ValueError, "no compiled op %s", op);
    return NULL;
}

/* document(name, doc): the docstring (with its text signature) of the compiled method name, so that
 * help(area.inc64) shows the core's docstring; the text is kept for the life of the process */
static PyObject *M_document(PyObject *mod, PyObject *args)
{
    const char *name, *doc;
    if (!PyArg_ParseTuple(args, "ss", &name, &doc))
        return NULL;
    for (PyMethodDef *d = A_methods; d->ml_name; d++) {
        if (strcmp(d->ml_name, name))
            continue;
        char *text = PyMem_RawMalloc(strlen(doc) + 1);
        if (!text)
            return PyErr_NoMemory();
        strcpy(text, doc);
        d->ml_doc = text;
        Py_RETURN_NONE;
    }
    PyErr_Format(PyExc_ValueError, "no compiled method %s", name);
    return NULL;
}

/* bind(cls): the compiled methods again, as descriptors of cls (the port's subclass of Area). CPython's
 * specialised call of a C method needs the instance's class to be exactly the one the descriptor names;
 * instances are of the subclass, so the descriptors inherited from Area take the slow, generic call (about
 * 1.4x a pre-bound call). The defs are the same, docstrings and all. */
static PyObject *M_bind(PyObject *mod, PyObject *cls)
{
    if (!PyType_Check(cls) || !PyType_IsSubtype((PyTypeObject *)cls, &AreaType)) {
        PyErr_SetString(PyExc_TypeError, "bind() takes a subclass of Area");
        return NULL;
    }
    for (PyMethodDef *d = A_methods; d->ml_name; d++) {
        if (d->ml_name[0] == '_')
            continue;
        PyObject *descr = PyDescr_NewMethod((PyTypeObject *)cls, d);
        if (!descr || PyObject_SetAttrString(cls, d->ml_name, descr) < 0) {
            Py_XDECREF(descr);
            return NULL;
        }
        Py_DECREF(descr);
    }
    Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"bind", M_bind, METH_O, "bind(cls): the compiled methods as cls's own, for CPython's fastest call"},
    {"function", M_function, METH_VARARGS, "function(name, op, areas, fallback): a compiled sharedarea_<op>"},
    {"reset", M_reset, METH_O, "reset(meta): a companion taken over alone loses its lock state, keeps its updates"},
    {"document", M_document, METH_VARARGS, "document(name, doc): the docstring of a compiled method"},
    {NULL}};

static struct PyModuleDef fastmodule = {PyModuleDef_HEAD_INIT, "_fast",
                                        "sharedarea's compiled fast path for CPython on Linux", -1, module_methods};

PyMODINIT_FUNC PyInit__fast(void)
{
    if (PyType_Ready(&SyncType) < 0 || PyType_Ready(&AreaType) < 0 || PyType_Ready(&FnType) < 0 ||
        PyType_Ready(&HeldType) < 0)
        return NULL;
    PyObject *core = PyImport_ImportModule("sharedarea.area");
    if (!core)
        return NULL;
    SharedAreaError = PyObject_GetAttrString(core, "SharedAreaError");
    CoreArea = PyObject_GetAttrString(core, "SharedArea");
    Py_DECREF(core);
    if (!SharedAreaError || !CoreArea)
        return NULL;
    PyObject *m = PyModule_Create(&fastmodule);
    if (!m)
        return NULL;
    static int forkhook;
    if (!forkhook) {
        pthread_atfork(NULL, NULL, after_fork_child);
        forkhook = 1;
    }
    Py_INCREF(&SyncType);
    Py_INCREF(&AreaType);
    if (PyModule_AddObject(m, "Sync", (PyObject *)&SyncType) < 0 ||
        PyModule_AddObject(m, "Area", (PyObject *)&AreaType) < 0 ||
        PyModule_AddIntConstant(m, "PROTOCOL", 3) < 0)
        return NULL;
    return m;
}

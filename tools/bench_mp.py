# MicroPython half of `make bench`: sharedarea's ops against the bare struct op on a bytearray, ops/s
# (median of rounds). Run by tools/bench.py as `micropython tools/bench_mp.py N ROUNDS`; prints one JSON line.
import sys
import time
from struct import pack_into, unpack_from

import sharedarea

try:
    import json
except ImportError:
    import ujson as json

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 5


def rate(run):
    got = []
    for _ in range(ROUNDS):
        t = time.ticks_us()
        run(N)
        dt = time.ticks_diff(time.ticks_us(), t)
        got.append(N * 1e6 / max(dt, 1))
    got.sort()
    return [got[len(got) // 2], got[0], got[-1]]


a = sharedarea.get(sharedarea.add('size=4096'))
b = bytearray(4096)
D = b'x' * 64


# sharedarea: the object form, method bound once as a user would in a hot loop
def sa_inc64(n, f=a.inc64):
    for _ in range(n):
        f(16)


def sa_read64(n, f=a.read64):
    for _ in range(n):
        f(16)


def sa_write64(n, f=a.write64):
    for _ in range(n):
        f(16, 5)


def sa_read(n, f=a.read):
    for _ in range(n):
        f(16, 64)


def sa_write(n, f=a.write):
    for _ in range(n):
        f(16, D)


def sa_lock(n, wl=a.wlock, ul=a.unlock):
    for _ in range(n):
        wl()
        ul()


# the bare op: struct on a bytearray, no bounds checks of ours, no lock
def bare_inc64(n):
    for _ in range(n):
        pack_into('<q', b, 16, unpack_from('<q', b, 16)[0] + 1)


def bare_read64(n):
    for _ in range(n):
        unpack_from('<q', b, 16)[0]


def bare_write64(n):
    for _ in range(n):
        pack_into('<q', b, 16, 5)


def bare_read(n):
    for _ in range(n):
        bytes(b[16:80])


def bare_write(n):
    for _ in range(n):
        b[16:80] = D


# the least any locked op in Python can cost here: one call, a _thread lock, the struct op
try:
    import _thread
    _lk = _thread.allocate_lock()
except ImportError:
    _lk = None


def _min_inc(pos):
    _lk.acquire()
    v = unpack_from('<q', b, pos)[0] + 1
    pack_into('<q', b, pos, v)
    _lk.release()
    return v


def _min_read(pos):
    _lk.acquire()
    v = unpack_from('<q', b, pos)[0]
    _lk.release()
    return v


def min_inc64(n, f=_min_inc):
    for _ in range(n):
        f(16)


def min_read64(n, f=_min_read):
    for _ in range(n):
        f(16)


out = {}
for op, sa, bare in (('inc64', sa_inc64, bare_inc64), ('read64', sa_read64, bare_read64),
                     ('write64', sa_write64, bare_write64), ('read', sa_read, bare_read),
                     ('write', sa_write, bare_write), ('wlock+unlock', sa_lock, None)):
    out[op] = {'sharedarea': rate(sa), 'bare': rate(bare) if bare else None}
if _lk:
    out['inc64']['locked minimum'] = rate(min_inc64)
    out['read64']['locked minimum'] = rate(min_read64)
print(json.dumps({'micropython': out, 'version': sys.version}))

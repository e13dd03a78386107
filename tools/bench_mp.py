# MicroPython half of `make bench`: each op four ways, ops/s (median of rounds): the bare struct op on a
# bytearray; the "locked minimum" (a Python function taking a _thread lock around that op: the least a
# locked op can cost in Python); sharedarea's plain path (the core's Python method); sharedarea as bound on
# an area (the port's fast path where it has one). Run by tools/bench.py as
# `micropython tools/bench_mp.py N ROUNDS`: prints a table, then one JSON line (the last).
import sys
import time
from struct import pack_into, unpack_from

import sharedarea
from sharedarea import SharedArea

try:
    import json
except ImportError:
    import ujson as json

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 5


def rates(runs):
    # [median, min, max] ops/s of each run (None stays None); every round runs each once, in turn, so the
    # machine's drift hits them alike
    got = [[] for _ in runs]
    for _ in range(ROUNDS):
        for i, run in enumerate(runs):
            if run:
                t = time.ticks_us()
                run(N)
                got[i].append(N * 1e6 / max(time.ticks_diff(time.ticks_us(), t), 1))
    out = []
    for g in got:
        g.sort()
        out.append([g[len(g) // 2], g[0], g[-1]] if g else None)
    return out


a = sharedarea.get(sharedarea.add('size=4096'))
b = bytearray(4096)
D = b'x' * 64
try:
    import _thread
    _lk = _thread.allocate_lock()
except ImportError:
    _lk = None


# each op as (bare, locked minimum, plain, fast): a function of n running it n times; methods bound once,
# as a user would in a hot loop
def ops():
    out = []

    def four(bare, locked, plain, fast):
        def loop(f, *args):
            if len(args) == 1:
                x, = args

                def run(n):
                    for _ in range(n):
                        f(x)
            elif len(args) == 2:
                x, y = args

                def run(n):
                    for _ in range(n):
                        f(x, y)
            else:
                def run(n):
                    for _ in range(n):
                        f()
            return run
        return [loop(*c) if c else None for c in (bare, locked, plain, fast)]

    def bare_read(pos, n=64):
        return bytes(b[pos:pos + n])

    def min_read(pos, n=64):
        _lk.acquire()
        r = bytes(b[pos:pos + n])
        _lk.release()
        return r

    def bare_write(pos, d):
        b[pos:pos + len(d)] = d

    def min_write(pos, d):
        _lk.acquire()
        b[pos:pos + len(d)] = d
        _lk.release()

    def bare_read8(pos):
        return unpack_from('<b', b, pos)[0]

    def min_read8(pos):
        _lk.acquire()
        v = unpack_from('<b', b, pos)[0]
        _lk.release()
        return v

    def bare_inc8(pos):
        v = (unpack_from('<B', b, pos)[0] + 1) & 255
        pack_into('<B', b, pos, v)
        return v

    def min_inc8(pos):
        _lk.acquire()
        v = (unpack_from('<B', b, pos)[0] + 1) & 255
        pack_into('<B', b, pos, v)
        _lk.release()
        return v

    def bare_read64(pos):
        return unpack_from('<q', b, pos)[0]

    def min_read64(pos):
        _lk.acquire()
        v = unpack_from('<q', b, pos)[0]
        _lk.release()
        return v

    def bare_write64(pos, v):
        pack_into('<q', b, pos, v)

    def min_write64(pos, v):
        _lk.acquire()
        pack_into('<q', b, pos, v)
        _lk.release()

    def bare_inc64(pos):
        v = unpack_from('<q', b, pos)[0] + 1
        pack_into('<q', b, pos, v)
        return v

    def min_inc64(pos):
        _lk.acquire()
        v = unpack_from('<q', b, pos)[0] + 1
        pack_into('<q', b, pos, v)
        _lk.release()
        return v

    def plain(name):
        m = getattr(SharedArea, name)
        return lambda *args: m(a, *args)

    def plain_lock():
        SharedArea.wlock(a)
        SharedArea.unlock(a)

    def fast_lock(wl=a.wlock, ul=a.unlock):
        wl()
        ul()

    def min_lock():
        _lk.acquire()
        _lk.release()

    lk = _lk is not None
    for op, args, bare, locked in (('read', (16, 64), bare_read, min_read), ('write', (16, D), bare_write, min_write),
                                   ('read8', (16,), bare_read8, min_read8), ('inc8', (16,), bare_inc8, min_inc8),
                                   ('read64', (16,), bare_read64, min_read64),
                                   ('write64', (16, 5), bare_write64, min_write64),
                                   ('inc64', (16,), bare_inc64, min_inc64)):
        out.append((op,) + tuple(four((bare,) + args, (locked,) + args if lk else None,
                                      (plain(op),) + args, (getattr(a, op),) + args)))
    out.append(('wlock+unlock',) + tuple(four(None, (min_lock,) if lk else None, (plain_lock,), (fast_lock,))))
    return out


out = {}
print('MicroPython %s: k ops/s (median of %d rounds of %d); ratios to the locked minimum' % (
    sys.version.split(';')[-1].strip(), ROUNDS, N))
print('%-13s %8s %8s %8s %8s   %6s %6s' % ('op', 'bare', 'locked', 'plain', 'fast', 'plain', 'fast'))
for op, bare, locked, plain, fast in ops():
    got = rates((bare, locked, plain, fast))
    r = {'bare': got[0], 'locked minimum': got[1], 'plain': got[2], 'sharedarea': got[3]}
    out[op] = r
    lm = r['locked minimum']

    def k(x):
        return '%8.0f' % (x[0] / 1e3) if x else '%8s' % '-'
    print('%-13s %s %s %s %s   %6s %6s' % (op, k(r['bare']), k(lm), k(r['plain']), k(r['sharedarea']),
                                          '%.2fx' % (r['plain'][0] / lm[0]) if lm else '-',
                                          '%.2fx' % (r['sharedarea'][0] / lm[0]) if lm else '-'))
print(json.dumps({'micropython': out, 'version': sys.version}))

# Differential test: one seeded sequence of calls (every op, boundary positions, bad input) on a local
# area and on a Redis area gives the same results, the same exceptions and the same final bytes.
import random
import sys

import pytest

import sharedarea
from redis_server import shared, not_pure

SIZE = 61  # odd on purpose: ints that cross the end, at every offset
WIDTHS = (8, 16, 32, 64)

pytestmark = not_pure


def _norm(a, out):
    # an exception as (type, message with the area's id made neutral); other results as they are
    if isinstance(out, BaseException):
        msg = str(out).replace('sharedarea %d' % a.id, 'sharedarea #')
        return type(out).__name__, msg.replace('RedisArea.', 'SharedArea.')
    return out


def _call(a, op, args):
    try:
        if op == 'readfast':
            buf = bytearray(args[1])
            n = a.readfast(args[0], buf, *args[2:])
            return n, bytes(buf)
        if op == 'lockdance':
            return _lockdance(a, args)
        return getattr(a, op)(*args)
    except Exception as e:
        return e


def _lockdance(a, how):
    # a few lock sequences, each with what it gives back
    out = []
    for step in how:
        try:
            if step in ('rlock', 'wlock', 'unlock', 'update'):
                r = getattr(a, step)()
            else:
                r = getattr(a, step)(*((0,) if step.startswith('read') else (0, 1)))
            out.append('held' if hasattr(r, '__exit__') else r)  # (the with-form of either path)
        except Exception as e:
            out.append(_norm(a, e))
    return out


def _pos(rng, w):
    return rng.choice((0, 1, SIZE - w, SIZE - w + 1, SIZE - 1, SIZE, -1, -w, rng.randrange(SIZE),
                       rng.randrange(-3, SIZE + 3), '1', 1.0, None, True))


def _val(rng, w):
    lo, hi = -(1 << (w - 1)), (1 << w) - 1
    return rng.choice((0, 1, -1, lo, hi, lo - 1, hi + 1, (1 << (w - 1)) - 1, 1 << (w - 1), 1 << 70,
                       rng.randrange(lo, hi + 1), rng.randrange(lo, hi + 1), 1.5, '3', None, False))


def _sequence(seed, n):
    rng = random.Random(seed)
    calls = []
    for _ in range(n):
        k = rng.randrange(100)
        if k < 45:
            w = rng.choice(WIDTHS)
            kind = rng.choice(('read', 'write', 'inc', 'dec', 'inc', 'dec'))
            op = '%s%d' % (kind, w)
            if kind == 'read':
                args = (_pos(rng, w // 8),)
            elif kind == 'write':
                args = (_pos(rng, w // 8), _val(rng, w))
            else:
                args = (_pos(rng, w // 8),) + (() if rng.random() < 0.3 else (_val(rng, w),))
        elif k < 60:
            op = 'write'
            d = rng.choice((b'', b'x', bytes(rng.randrange(256) for _ in range(rng.randrange(1, 20))),
                            bytearray(b'abc'), memoryview(b'mv!'), 'é-utf8', bytes(SIZE), bytes(SIZE + 1), 5, None))
            args = (_pos(rng, 1), d)
        elif k < 75:
            op = 'read'
            args = (_pos(rng, 1),) + rng.choice(((), (0,), (1,), (7,), (SIZE,), (SIZE + 1,), (-1,), (1.5,),
                                                 (rng.randrange(SIZE),)))
        elif k < 85:
            op = 'readfast'
            args = (_pos(rng, 1), rng.choice((0, 1, 4, 9, SIZE + 5)))
            args += rng.choice(((), (0,), (2,), (9,), (-1,), ('2',)))
        elif k < 90:
            op = 'update'
            args = ()
        elif k < 95:
            op = 'wait'
            args = rng.choice(((0, 1), (10, -1), (10, '1'), ('x', 1), (float('nan'), 1)))
        else:
            op = 'lockdance'
            args = rng.choice((('unlock',), ('rlock', 'write8', 'update', 'read8', 'wlock', 'unlock', 'unlock'),
                               ('wlock', 'wlock', 'inc8', 'rlock', 'write8', 'unlock', 'unlock', 'unlock', 'unlock'),
                               ('wlock', 'update', 'unlock', 'rlock', 'read8', 'unlock')))
        calls.append((op, args))
    return calls


@pytest.mark.parametrize('seed,client', [(1, 'redis-py'), (2, 'redis-py'), (3, 'resp')])
def test_same_calls_same_results(seed, client, monkeypatch):
    # (resp: our own RESP client, as MicroPython uses, here on CPython)
    srv = shared()
    monkeypatch.setenv('SHAREDAREA_REDIS_CLIENT', client)
    local = sharedarea.get(sharedarea.add('size=%d' % SIZE))
    key = 'sa-diff-%d-%d' % (seed, random.randrange(1 << 30))
    remote = sharedarea.get(sharedarea.add('redis=%s,key=%s,size=%d' % (srv.addr, key, SIZE)))
    assert type(remote._conn).__name__ == ('_Locked' if client == 'resp' else '_RedisPy')
    calls = _sequence(seed, 2000)
    u0 = (local.updates, remote.updates)
    kinds = set()
    for i, (op, args) in enumerate(calls):
        want = _norm(local, _call(local, op, args))
        got = _norm(remote, _call(remote, op, args))
        assert got == want, 'call %d: %s%r: local %r, redis %r' % (i, op, args, want, got)
        kinds.add(op)
        if i % 50 == 0:
            assert remote.read(0) == local.read(0), 'bytes differ after call %d' % i
    assert remote.read(0) == local.read(0)
    assert remote.updates - u0[1] == local.updates - u0[0]
    assert len(kinds) >= 20
    assert srv.cmd('GET', key) == local.read(0)  # what the server holds is the same bytes
    assert srv.cmd('STRLEN', key) == SIZE  # never grown
    local.close()
    remote.close()


if __name__ == '__main__':
    sys.exit(pytest.main([__file__, '-q']))

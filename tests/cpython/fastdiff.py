# The op-sequence generator behind test_fast_vs_pure.py: `python fastdiff.py CALLS DIR SEED...` makes CALLS
# seeded random calls per seed and prints one line per call (call, outcome, area bytes digest, counters).
import os
import random
import re
import sys
import zlib
from array import array

import sharedarea

WIDTHS = (1, 2, 4, 8)
BIG = (2 ** 31, 2 ** 32, 2 ** 63 - 1, 2 ** 63, 2 ** 64 - 1, 2 ** 64, 10 ** 30, -2 ** 63, -2 ** 63 - 1, -10 ** 30)
WRONG = ('0', 1.0, 0.0, None, b'\x00', [0], True, False)
ADDR = re.compile(r'0x[0-9a-f]{6,}')


class Gen:
    def __init__(self, seed, tmp):
        self.r = random.Random(seed)
        self.tmp = tmp
        self.areas = []  # (id, area, view of its memory, kind)
        self.n = 0

    # ---- areas

    def make(self):
        r = self.r
        kind = r.choice(('pages', 'size', 'size', 'file', 'buffer', 'buffer', 'int'))
        if kind == 'pages':
            spec = 'pages=%d' % r.choice((1, 2))
        elif kind == 'size':
            spec = 'size=%d' % r.choice((1, 2, 3, 7, 9, 13, 100, 4097))
        elif kind == 'file':
            self.n += 1
            path = os.path.join(self.tmp, 'f%d' % self.n)
            spec = 'file=%s,size=%d,offset=%d' % (path, r.choice((1, 9, 64)), r.choice((0, 3, 4096)))
        elif kind == 'int':
            spec = 1
        else:
            size = r.choice((1, 5, 8, 17, 64))
            spec = r.choice((bytearray(size), memoryview(bytearray(size)), array('B', bytes(size))))
        i = sharedarea.add(spec)
        a = sharedarea.get(i)
        # a second view kept by the test, so the bytes can still be compared after close()
        self.areas.append((i, a, memoryview(a.memoryview()), kind))
        return 'add(%s)' % (kind if kind in ('file', 'buffer') else repr(spec))

    # ---- arguments

    def pos(self, size, w=1):
        r = self.r
        k = r.random()
        if k < 0.55:
            return r.randrange(0, max(1, size - w + 1))
        if k < 0.9:
            return r.choice((-1, 0, size - w, size - w + 1, size - 1, size, size + 1, 2 ** 31, -2 ** 31))
        if k < 0.96:
            return r.choice(BIG)
        return r.choice(WRONG)

    def value(self, w):
        r = self.r
        b = w * 8
        k = r.random()
        if k < 0.5:
            return r.randrange(-(1 << (b - 1)), 1 << b)
        if k < 0.9:
            return r.choice((0, 1, -1, (1 << (b - 1)) - 1, 1 << (b - 1), -(1 << (b - 1)), -(1 << (b - 1)) - 1,
                             (1 << b) - 1, 1 << b, 255, 256, -128, -129, 65535, 65536))
        if k < 0.96:
            return r.choice(BIG)
        return r.choice(WRONG + (1.5,))

    def length(self, size, pos):
        r = self.r
        k = r.random()
        if k < 0.6:
            p = pos if type(pos) is int and 0 <= pos < size else 0
            return r.randrange(0, size - p + 1)
        if k < 0.92:
            return r.choice((0, 1, -1, size, size + 1, 2 ** 31, 2 ** 63 - 1, 2 ** 63, -2 ** 63, 10 ** 30))
        return r.choice(WRONG)

    def data(self, size):
        r = self.r
        n = r.choice((0, 1, 2, 3, size // 2, size, size + 1))
        raw = bytes(r.randrange(256) for _ in range(min(n, 200))) + bytes(max(0, n - 200))
        k = r.randrange(12)
        if k < 4:
            return raw
        if k == 4:
            return bytearray(raw)
        if k == 5:
            return memoryview(raw)  # read-only is fine for a source
        if k == 6:
            return memoryview(bytearray(raw))
        if k == 7:
            return 'x\xe9' * (n // 3)  # str: stored as UTF-8
        if k == 8:
            return array('B', raw)
        if k == 9:
            return memoryview(bytearray(raw * 2))[::2]  # not contiguous
        if k == 10:
            return array('H', bytes(n - n % 2))  # items of 2 bytes
        return r.choice(WRONG + (7, -1))

    def rbuf(self, size):
        r = self.r
        n = r.choice((0, 1, 3, size, size + 5))
        k = r.randrange(7)
        if k < 3:
            return bytearray(n)
        if k == 3:
            return memoryview(bytearray(n))
        if k == 4:
            return bytes(n)  # read-only
        if k == 5:
            return array('B', bytes(n))
        return r.choice((None, 'abc', 5))

    # ---- one call

    def call(self):
        r = self.r
        if len(self.areas) < 2 or r.random() < 0.01:
            return self.make(), None
        live = [x for x in self.areas if repr(x[1]).find(' closed>') < 0]
        if not live or r.random() < 0.05:
            live = self.areas  # now and then, a closed one
        i, a, view, kind = r.choice(live)
        size = a.size
        form = r.random() < 0.3  # the uWSGI function form
        op = r.choice(('read', 'read', 'write', 'write', 'readfast', 'rw', 'rw', 'rw', 'rw', 'rw', 'rw',
                       'lock', 'lock', 'lock', 'update', 'updates', 'object', 'wait', 'misc', 'misc'))
        if r.random() < 0.01:
            op = 'close'
        kw = {}
        if op == 'rw':
            w = r.choice(WIDTHS)
            name = r.choice(('read', 'write', 'inc', 'dec')) + str(w * 8)
            args = [self.pos(size, w)]
            if name.startswith('write'):
                args.append(self.value(w))
            elif name[0] in 'id' and r.random() < 0.7:
                args.append(self.value(w))
            if form and r.random() < 0.1:
                name = {'read8': 'readbyte', 'write8': 'writebyte', 'read64': 'readlong', 'write64': 'writelong',
                        'inc64': 'inclong'}.get(name, name)
        elif op == 'read':
            name = 'read'
            p = self.pos(size)
            args = [p]
            if r.random() < 0.8:
                args.append(self.length(size, p))
        elif op == 'write':
            name = 'write'
            args = [self.pos(size), self.data(size)]
        elif op == 'readfast':
            name = 'readfast'
            p = self.pos(size)
            args = [p, self.rbuf(size)]
            if r.random() < 0.7:
                args.append(self.length(size, p))
        elif op == 'lock':
            name = r.choice(('rlock', 'wlock', 'unlock', 'unlock'))
            args = []
        elif op == 'wait':
            name = 'wait'
            args = r.choice(([100, 0.001], [1, 0.002], [0, 1], [100, -1], ['x', 1], [100, None], [1.5, 0.001],
                                 [float('nan'), 0.001], [100, float('nan')], [float('inf'), 0.001]))
        elif op == 'close':
            if r.random() < 0.5:
                return 'close %d' % i, self.run(sharedarea.close, (i,))
            return 'area%d.close()' % i, self.run(a.close, ())
        elif op == 'misc':
            k = r.randrange(4)
            if k == 0:
                return 'get', self.run(lambda: sharedarea.get(r.choice((i, -1, 10 ** 6, '0', None))).id, ())
            if k == 1:
                return 'fn bad id', self.run(getattr(sharedarea, 'sharedarea_' + r.choice(('read8', 'inc32',
                                                                                              'write', 'read'))),
                                             (r.choice((-1, 10 ** 6, 2 ** 64, '0', None, 1.0)), 0))
            if k == 2:
                return 'memoryview', self.run(lambda: bytes(a.memoryview()[:16]), ())
            return 'with wlock', self.run(self.with_lock, (a,))
        else:
            name = op
            args = []
        if r.random() < 0.04 and args:
            # keyword arguments: the compiled calls hand them to the pure methods
            key = {'read': ('pos', 'length'), 'readfast': ('pos', 'buf', 'length'), 'wait': ('freq', 'timeout')}
            names = key.get(name, ('pos', 'amount' if name[:3] in ('inc', 'dec') else 'value'))
            if len(args) <= len(names):
                kw = {names[len(args) - 1]: args.pop()}
        if r.random() < 0.02:
            args.append(0)  # one argument too many
        if name == 'updates':
            return 'area%d.updates' % i, self.run(lambda: a.updates, ())
        if form:
            f = getattr(sharedarea, 'sharedarea_' + name)
            desc = 'sharedarea_%s(%d, %s, %s)' % (name, i, self.show(args), self.show(kw))
            return desc, self.run(f, [i] + args, kw, args)
        desc = 'area%d.%s(%s, %s)' % (i, name, self.show(args), self.show(kw))
        return desc, self.run(getattr(a, name), args, kw, args)

    def with_lock(self, a):
        with a.wlock():
            a.inc8(0)
            with a.rlock():
                return a.read8(0)

    def show(self, x):
        s = ADDR.sub('0x?', repr(x))
        return s if len(s) < 80 else s[:60] + '...%d chars' % len(s)

    def run(self, f, args, kw=None, bufs=()):
        try:
            res = f(*args, **(kw or {}))
            if isinstance(res, sharedarea.SharedArea):
                res = 'area%d' % res.id
            elif hasattr(res, '__enter__') and hasattr(res, '__exit__'):
                res = 'held'  # what rlock()/wlock() return: its type is each path's own (the compiled one is C)
            out = 'ok %s' % self.show(res)
        except Exception as e:
            out = '%s: %s' % (type(e).__name__, ADDR.sub('0x?', str(e)))
        # what readfast wrote into its buffer
        for b in bufs:
            if isinstance(b, (bytearray, array)) or (isinstance(b, memoryview) and not b.readonly):
                out += ' buf=%08x' % zlib.crc32(bytes(b))
        return out

    def state(self):
        parts = []
        for i, a, view, kind in self.areas:
            try:
                u = a.updates
            except Exception as e:
                u = type(e).__name__
            parts.append('%d:%08x:%s' % (i, zlib.crc32(view), u))
        return ' '.join(parts)

    def cleanup(self):
        for i, a, view, kind in self.areas:
            for _ in range(64):
                try:
                    a.unlock()
                except Exception:
                    break
            view.release()
            a.close()


def main():
    # fastdiff.py CALLS DIR SEED...: one fresh temporary folder per seed, under DIR
    calls, tmp = int(sys.argv[1]), sys.argv[2]
    out = sys.stdout
    for seed in sys.argv[3:]:
        d = os.path.join(tmp, 'seed%s' % seed)
        os.mkdir(d)
        out.write('SEED %s\n' % seed)
        g = Gen(int(seed), d)
        for k in range(calls):
            desc, res = g.call()
            out.write('%d %s -> %s | %s\n' % (k, desc, res, g.state()))
        g.cleanup()
    out.write('END\n')


if __name__ == '__main__':
    main()

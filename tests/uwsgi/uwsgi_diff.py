# Differential testing against real uWSGI: seeded call sequences run in uWSGI and in sharedarea, then
# compared call by call; uWSGI's known faults map to our documented results (the differences table of docs/uwsgi.md).
# Reproduce one sequence: python tests/uwsgi/uwsgi_diff.py SEED [STEPS]
import json
import mmap
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from sa_calls import dec, enc  # noqa: E402

PAGE = mmap.PAGESIZE
UWSGI = shutil.which('uwsgi')
_why = []


def missing():
    # why real uWSGI with its python3 plugin cannot run here, or '' when it can (checked once)
    if not _why:
        _why.append(_probe())
    return _why[0]


def _probe():
    if not UWSGI:
        return 'uWSGI is not installed (Debian: apt-get install uwsgi-core uwsgi-plugin-python3)'
    d = tempfile.mkdtemp(prefix='sa-uwsgi-')
    try:
        plan = {'specs': ['1'], 'steps': [[['sharedarea_write8', [0, 0, 7]], ['sharedarea_read8', [0, 0]]]]}
        try:
            r = run_uwsgi(plan, d, timeout=30)
        except RuntimeError as e:
            return 'uWSGI cannot run a python3 script here: %s' % str(e)[-300:]
        if r['steps'][0][1] != {'ok': 7}:
            return 'uWSGI ran but its sharedarea did not answer as expected: %r' % r
        return ''
    finally:
        shutil.rmtree(d, ignore_errors=True)


def _spawn(cmd, env, timeout):
    # own process group, so a uWSGI that hangs is killed with every process it made
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        out = p.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out = p.communicate()[0]
        raise RuntimeError('%s did not finish in %d s:\n%s' % (cmd[0], timeout, out.decode(errors='replace')[-3000:]))
    return p.returncode, out.decode(errors='replace')


def uwsgi_cmd(specs, script):
    cmd = [UWSGI, '--plugin', 'python3']
    for s in specs:
        cmd += ['--sharedarea', s]
    return cmd + ['--pyrun', script]


def _run(cmd, plan, d, env, timeout):
    pf, of = os.path.join(d, 'plan.json'), os.path.join(d, 'out.json')
    with open(pf, 'w') as f:
        json.dump(plan, f)
    if os.path.exists(of):
        os.unlink(of)
    env = dict(os.environ, SA_PLAN=pf, SA_OUT=of, **env)
    env.pop('UWSGI_SHAREDAREA', None)
    rc, out = _spawn(cmd, env, timeout)
    if not os.path.exists(of):
        raise RuntimeError('%s wrote no results (exit %s):\n%s' % (cmd[0], rc, out[-3000:]))
    with open(of) as f:
        return json.load(f)


def run_uwsgi(plan, d, timeout=60):
    return _run(uwsgi_cmd(plan['specs'], os.path.join(HERE, 'sa_calls.py')), plan, d, {}, timeout)


def run_ours(plan, d, timeout=60):
    # a fresh Python, so the ids are 0, 1, ... as in uWSGI; `import uwsgi` gets the drop-in module
    return _run([sys.executable, os.path.join(HERE, 'sa_calls.py')], plan, d, {'SA_SHIM': '1'}, timeout)


# ---- the generator ------------------------------------------------------------------------------------

NAMES = {'read8': 1, 'read16': 2, 'read32': 4, 'read64': 8, 'readbyte': 1, 'readlong': 8,
         'write8': 1, 'write16': 2, 'write32': 4, 'write64': 8, 'writebyte': 1, 'writelong': 8,
         'inc32': 4, 'inc64': 8, 'dec32': 4, 'dec64': 8, 'inclong': 8}
BASE = {'readbyte': 'read8', 'readlong': 'read64', 'writebyte': 'write8', 'writelong': 'write64',
        'inclong': 'inc64'}


class Areas:
    # the areas of one sequence: the same --sharedarea strings for both sides, except the file paths
    # (each side maps its own copy of the same bytes, so they do not see each other's writes)
    def __init__(self, rnd, d):
        self.ours, self.theirs, self.sizes, self.files = [], [], [], []
        for i in range(rnd.randint(2, 4)):
            if rnd.random() < 0.45:
                s = rnd.choice(['1', 'pages=1', 'size=%d' % PAGE, 'size=0x%x' % PAGE, '2', 'pages=2',
                                'size=0x%x' % (2 * PAGE), 'pages=1,size=%d' % PAGE])
                n = PAGE * (2 if s in ('2', 'pages=2', 'size=0x%x' % (2 * PAGE)) else 1)
                self.ours.append(s)
                self.theirs.append(s)
            else:
                n = rnd.choice([rnd.randint(1, 24), rnd.randint(1, 300), rnd.randint(PAGE - 9, PAGE + 9)])
                off = rnd.choice([0, 0, PAGE])
                data = bytes(rnd.getrandbits(8) for _ in range(off + n + rnd.randint(0, 64)))
                spec = []
                for who, lst in (('ours', self.ours), ('theirs', self.theirs)):
                    path = os.path.join(d, '%s-%d.bin' % (who, i))
                    with open(path, 'wb') as f:
                        f.write(data)
                    self.files.append(path)
                    spec = ['file=' + path, rnd.choice(['size=%d', 'size=0x%x']) % n]
                    if off:
                        spec.append(rnd.choice(['offset=%d', 'offset=0x%x']) % off)
                    lst.append(','.join(spec))
            self.sizes.append(n)

    def cleanup(self):
        # the companion files our CPython port keeps in /dev/shm for mapped files
        for p in self.files:
            try:
                st = os.stat(p)
                os.unlink('/dev/shm/sharedarea-%x-%x' % (st.st_dev, st.st_ino))
            except OSError:
                pass


class Gen:
    def __init__(self, seed, areas):
        self.r = random.Random(seed)
        self.a = areas
        self.n = len(areas.sizes)

    def id(self, bad=0.06):
        r = self.r
        if r.random() < bad:
            return r.choice([self.n, self.n + 1, self.n + 7, 1000, 2 ** 31 - 1])
        return r.randrange(self.n)

    def size(self, i):
        return self.a.sizes[i] if 0 <= i < self.n else PAGE

    def pos(self, i, w=1):
        r = self.r
        s = self.size(i)
        c = r.random()
        if c < 0.45:
            return r.randrange(s)
        if c < 0.93:
            return max(-3, r.choice([0, 1, s - w - 1, s - w, s - w + 1, s - w + 2, s - 1, s, s + 1]))
        return r.choice([-1, -2, -w, 2 ** 31, 2 ** 40, 2 ** 63 - 1])

    def value(self, w):
        r = self.r
        b = 8 * w
        c = r.random()
        if c < 0.35:
            return r.randrange(-(1 << (b - 1)), 1 << b)
        if c < 0.5:
            return r.randint(-300, 300)
        return r.choice([0, 1, -1, (1 << (b - 1)) - 1, -(1 << (b - 1)), 1 << (b - 1), (1 << b) - 1, 1 << b,
                         -(1 << (b - 1)) - 1, (1 << b) + 5, -(1 << 40), 1 << 70, 65535, 65536, 65536 * 3 + 7,
                         -32768, -32769, 255, 256, -128, -129])

    def data(self):
        r = self.r
        n = r.choice([0, 1, 2, r.randint(1, 12), r.randint(1, 40)])
        raw = bytes(r.getrandbits(8) for _ in range(n))
        c = r.random()
        if c < 0.7:
            return raw
        if c < 0.8:
            return ''.join(r.choice('ab\u00e9\u20ac\U0001f600z') for _ in range(n))  # stored as UTF-8
        return bytearray(raw) if c < 0.9 else memoryview(raw)

    def bad(self):
        return self.r.choice(['1', 1.5, None, b'1'])

    def call(self, only=None):
        # one call; only=(id, 'read') restricts it to reads of that id (inside an rlock)
        r = self.r
        i = only[0] if only else self.id()
        kind = r.choice(['rd', 'rd', 'rw', 'int', 'int', 'intw', 'intw', 'inc', 'inc', 'mv', 'misc', 'types'])
        if only and kind not in ('rd', 'int'):
            kind = r.choice(['rd', 'int'])
        if kind == 'rd':
            p = self.pos(i, 4)
            c = r.random()
            if c < 0.2:
                return ('sharedarea_read', [i, p])
            s = self.size(i)
            n = r.choice([0, 1, r.randint(1, 16), max(0, s - p), max(0, s - p + 1), s])
            return ('sharedarea_read', [i, p, min(n, s + 16)])
        if kind == 'rw':
            return ('sharedarea_write', [i, self.pos(i, 4), self.data()])
        if kind == 'int':
            name = r.choice(['read8', 'read16', 'read32', 'read64', 'readbyte', 'readlong'])
            return ('sharedarea_' + name, [i, self.pos(i, NAMES[name])])
        if kind == 'intw':
            name = r.choice(['write8', 'write16', 'write32', 'write64', 'writebyte', 'writelong'])
            w = NAMES[name]
            return ('sharedarea_' + name, [i, self.pos(i, w), self.value(w)])
        if kind == 'inc':
            name = r.choice(['inc32', 'inc64', 'dec32', 'dec64', 'inclong'])
            w = NAMES[name]
            args = [i, self.pos(i, w)]
            if r.random() < 0.8:
                args.append(self.value(w) if r.random() < 0.6 else r.randint(-5, 5))
            return ('sharedarea_' + name, args)
        if kind == 'mv':
            s = self.size(i)
            p = r.randrange(s)
            if r.random() < 0.3:
                return ('mv_info', [i])
            if r.random() < 0.5:
                return ('mv_get', [i, p, r.randint(0, 8)])
            n = min(s - p, r.randint(0, 8))
            return ('mv_set', [i, p, bytes(r.getrandbits(8) for _ in range(n))])
        if kind == 'misc':
            return ('sharedarea_object', [self.id(0.3)])
        # a wrong type somewhere: TypeError on both sides
        c = r.randrange(4)
        if c == 0:
            return ('sharedarea_read8', [i, self.bad()])
        if c == 1:
            return ('sharedarea_write32', [i, 0, r.choice([1.5, '1', None])])
        if c == 2:
            return ('sharedarea_write', [i, 0, r.choice([5, None, 1.5])])
        return ('sharedarea_read16', [r.choice(['0', 1.5]), 0])

    def steps(self, count):
        # single calls, plus lock blocks shaped so uWSGI does not hang: wlock/unlock around calls on
        # other areas only; rlock/unlock around reads of that area (and calls on others)
        r = self.r
        out = []
        while len(out) < count:
            c = r.random()
            if c < 0.06:
                a = r.randrange(self.n)
                out.append(('sharedarea_' + r.choice(['rlock', 'wlock']), [a]))
                rd = out[-1][0].endswith('rlock')
                for _ in range(r.randint(0, 4)):
                    if rd and r.random() < 0.6:
                        out.append(self.call(only=(a, 'read')))
                    elif self.n > 1:
                        c = self.call()
                        while c[1] and c[1][0] == a:
                            c = self.call()
                        out.append(c)
                out.append(('sharedarea_unlock', [a]))
            elif c < 0.07:
                out.append(('sharedarea_' + r.choice(['rlock', 'wlock', 'unlock']), [self.n + r.randint(0, 3)]))
            else:
                out.append(self.call())
        return out


# ---- what uWSGI is sent, and how its answer is judged -----------------------------------------------

def _le(v, w):
    return (v % (1 << (8 * w))).to_bytes(w, 'little')


def _signed(v, w):
    b = 8 * w
    v %= 1 << b
    return v - (1 << b) if v >> (b - 1) else v


def _isint(v):
    return type(v) is int


def plan_step(name, args, ours, areas):
    # -> (uWSGI calls, rule): the literal call first when it is safe for uWSGI, then calls that keep
    # both sides' bytes equal after a documented difference. Rules are keys of RULES.
    n = len(areas.sizes)
    ok = 'ok' in ours
    short = name[len('sharedarea_'):] if name.startswith('sharedarea_') else name
    base = BASE.get(short, short)
    lit = [(name, args)]
    valid = _isint(args[0]) and 0 <= args[0] < n if args else False

    def sync(data):
        return [('sharedarea_write', [args[0], args[1], data])] if ok else []

    if base == 'write16' and _isint(args[2]):
        v = args[2]
        eff = (v % (1 << 32)) >> 16  # uWSGI parses 4 bytes into the 2-byte value: the top half lands on the id
        if args[0] == 0 and 0 <= v < 65536:
            return lit, 'same'
        if eff >= n:
            return lit + sync(_le(v, 2)), 'write16'
        return sync(_le(v, 2)), 'write16-unsent'
    if base == 'write8' and _isint(args[2]) and -128 <= args[2] < 0:
        return lit + sync(_le(args[2], 1)), 'write8-signed'
    if base == 'write32' and _isint(args[2]) and not -(1 << 31) <= args[2] < 1 << 32:
        return [('trunc_write32', args)], 'write32-truncates'
    if base == 'write64' and _isint(args[2]) and 1 << 63 <= args[2] < 1 << 64:
        return lit + sync(_le(args[2], 8)), 'write64-unsigned'
    if base == 'write' and isinstance(args[2], (bytearray, memoryview)):
        return lit + sync(bytes(args[2])), 'write-buffers'
    if base in ('inc32', 'inc64', 'dec32', 'dec64'):
        w = NAMES[base]
        p = args[1]
        amount = args[2] if len(args) > 2 else 1
        if (w == 8 and valid and _isint(p) and 0 <= p and p + 4 <= areas.sizes[args[0]] < p + 8
                and _isint(amount) and -(1 << 63) <= amount < 1 << 63):
            return [], 'inc64-end'  # not sent: uWSGI checks 4 bytes, then writes 8, past the end
        back = [('sharedarea_read%d' % (8 * w), args[:2])] if ok else []
        if _isint(amount) and 1 << (8 * w - 1) <= amount < 1 << (8 * w):
            fix = [(name, [args[0], p, amount - (1 << (8 * w))])] if ok else []
            return lit + fix + back, 'amount-unsigned'
        return lit + back, 'inc-returns' if ok else 'same'
    if base == 'object' and valid:
        return lit, 'object-plain'
    return lit, 'same'


_EXC = {'ValueError': ValueError, 'OverflowError': OverflowError, 'TypeError': TypeError,
        'SystemError': SystemError, 'MemoryError': MemoryError}


def _is(ours, *names):
    # ours raised an exception that is one of names (SharedAreaError counts as the ValueError it is)
    if 'exc' not in ours:
        return False
    t = ours['exc']
    if t == 'SharedAreaError':
        return 'SharedAreaError' in names or 'ValueError' in names
    return any(t == x or (t in _EXC and x in _EXC and issubclass(_EXC[t], _EXC[x])) for x in names)


def _same(ours, theirs):
    if 'exc' in theirs:
        return _is(ours, theirs['exc'])
    return ours == theirs


def judge(name, args, rule, ours, theirs, n):
    # None when uWSGI's answers agree with ours (or differ exactly as documented), else what differs
    t0 = theirs[0] if theirs else None
    bad_id = not (_isint(args[0]) and 0 <= args[0] < n) if args else False
    if rule == 'same':
        if _same(ours, t0):
            return None
        # a call with a bad id and another bad argument: uWSGI reports the argument, we the id
        if bad_id and _is(ours, 'SharedAreaError') and 'exc' in t0:
            return None
        return 'ours %r, uWSGI %r' % (ours, t0)
    if rule == 'inc-returns':
        # uWSGI returns None; the value it then holds is the new value we returned
        if t0 == {'ok': None} and theirs[1] == ours:
            return None
        return 'ours %r, uWSGI %r then reads %r' % (ours, t0, theirs[1:])
    if rule == 'amount-unsigned':
        # uWSGI refuses an amount above its signed range; the same bits as a negative amount agree
        if t0.get('exc') != 'OverflowError':
            return 'uWSGI took amount %r: %r' % (args[2], t0)
        if 'ok' in ours:
            return None if theirs[1] == {'ok': None} and theirs[2] == ours else 'ours %r, uWSGI %r' % (ours, theirs)
        return None if _is(ours, 'SharedAreaError') else 'ours %r' % ours
    if rule == 'write8-signed' or rule == 'write64-unsigned':
        if t0.get('exc') != 'OverflowError':
            return 'uWSGI took value %r: %r' % (args[2], t0)
        return None if ours == {'ok': None} or _is(ours, 'SharedAreaError') else 'ours %r' % ours
    if rule == 'write-buffers':
        if t0.get('exc') != 'TypeError':
            return 'uWSGI took a %s: %r' % (type(args[2]).__name__, t0)
        return None if ours == {'ok': None} or _is(ours, 'SharedAreaError') else 'ours %r' % ours
    if rule == 'write16':
        # its top half picked an area that does not exist: ValueError, whatever the value
        if t0.get('exc') != 'ValueError':
            return 'uWSGI write16 %r: %r' % (args[2], t0)
        return None if 'ok' in ours or _is(ours, 'OverflowError', 'SharedAreaError') else 'ours %r' % ours
    if rule == 'write16-unsent':
        # not sent: uWSGI would write into area (value >> 16); ours stores the value or refuses it
        return None if 'ok' in ours or _is(ours, 'OverflowError', 'SharedAreaError') else 'ours %r' % ours
    if rule == 'write32-truncates':
        if 'exc' in t0:
            # a bad id or pos: uWSGI says ValueError, we refuse the value first
            ok = t0['exc'] == 'ValueError' and _is(ours, 'OverflowError', 'SharedAreaError')
            return None if ok else 'ours %r, uWSGI %r' % (ours, t0)
        r, after = dec(t0['ok'])
        if r is None and after == _signed(args[2], 4) and _is(ours, 'OverflowError'):
            return None
        return 'ours %r, uWSGI stored %r' % (ours, after)
    if rule == 'inc64-end':
        return None if _is(ours, 'SharedAreaError') else 'ours %r at the end' % ours
    if rule == 'object-plain':
        return None if t0.get('exc') == 'SystemError' and _is(ours, 'SharedAreaError') else 'ours %r, uWSGI %r' % (ours, t0)
    return 'unknown rule %s' % rule


def differential(seed, count, d):
    # one seeded sequence; returns (report lines of differences, {rule: count}, calls sent to uWSGI)
    rnd = random.Random(seed)
    areas = Areas(rnd, d)
    try:
        steps = Gen(rnd.getrandbits(32), areas).steps(count)
        ours = run_ours({'specs': areas.ours, 'steps': [[(n, enc(a))] for n, a in steps], 'dump': True}, d)
        plans = [plan_step(n, a, ours['steps'][k][0], areas) for k, (n, a) in enumerate(steps)]
        theirs = run_uwsgi({'specs': areas.theirs, 'steps': [[(n, enc(a)) for n, a in calls] for calls, _ in plans],
                            'dump': True}, d)
    finally:
        areas.cleanup()
    # the two sides really were real uWSGI and our drop-in
    assert theirs['module'] == 'built-in' and ours['module'].endswith(os.path.join('core', 'uwsgi.py')), (
        theirs['module'], ours['module'])
    bad, rules, sent = [], {}, 0
    for k, ((name, args), (calls, rule)) in enumerate(zip(steps, plans)):
        rules[rule] = rules.get(rule, 0) + 1
        sent += bool(calls) and calls[0][0] in (name, 'trunc_write32')
        why = judge(name, args, rule, ours['steps'][k][0], theirs['steps'][k], len(areas.sizes))
        if why:
            bad.append('seed %d step %d: %s%r [%s]: %s' % (seed, k, name, tuple(args), rule, why))
    for i, (a, b) in enumerate(zip(ours['dump'], theirs['dump'])):
        if a != b:
            a, b = dec(a), dec(b)
            at = next(j for j in range(min(len(a), len(b)) + 1) if j == min(len(a), len(b)) or a[j] != b[j])
            bad.append('seed %d: area %d (%s) differs at the end, first at byte %d (sizes %d, %d)'
                       % (seed, i, areas.ours[i], at, len(a), len(b)))
    return bad, rules, sent


if __name__ == '__main__':
    seed = int(sys.argv[1])
    d = tempfile.mkdtemp(prefix='sa-diff-')
    try:
        bad, rules, sent = differential(seed, int(sys.argv[2]) if len(sys.argv) > 2 else 250, d)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    print('\n'.join(bad) or 'no differences')
    print('calls sent to uWSGI: %d; rules: %s' % (sent, rules))

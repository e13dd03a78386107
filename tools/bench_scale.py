# `make bench`'s scaling rows (issue 13): how sharedarea's compiled path scales with processes, against a C
# floor built here (__atomic_fetch_add on a MAP_SHARED mapping from N processes) and uWSGI's 2 mules, with
# a probe of how parallel the machine's cores were during the run. Called by tools/bench.py; runs alone too.
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

C_SRC = r'''
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
/* usage: floor MODE PROCS N. MODE: spin (a plain loop, the parallelism probe), sep (atomic adds on counters
 * 64 bytes apart), one (atomic adds on one counter). Prints total ops/s over all processes. */
int main(int argc, char **argv)
{
    const char *mode = argv[1];
    int procs = atoi(argv[2]);
    long n = atol(argv[3]);
    volatile uint64_t *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    volatile uint64_t *go = m + 500;
    double t0 = now();
    for (int p = 0; p < procs; p++) {
        if (fork() == 0) {
            while (!__atomic_load_n(go, __ATOMIC_ACQUIRE))
                ;
            if (!strcmp(mode, "spin")) {
                volatile uint64_t x = 0;
                for (long i = 0; i < n; i++)
                    x++;
            } else {
                uint64_t *c = (uint64_t *)m + (strcmp(mode, "sep") ? 0 : 8 * p);
                for (long i = 0; i < n; i++)
                    __atomic_fetch_add(c, 1, __ATOMIC_SEQ_CST);
            }
            _exit(0);
        }
    }
    t0 = now();
    __atomic_store_n(go, 1, __ATOMIC_RELEASE);
    while (wait(NULL) > 0)
        ;
    double t = now() - t0;
    uint64_t total = strcmp(mode, "spin") ? (strcmp(mode, "sep") ? m[0] : 0) : 0;
    if (!strcmp(mode, "sep"))
        for (int p = 0; p < procs; p++)
            total += m[8 * p];
    printf("%.0f %d\n", procs * (double)n / t, strcmp(mode, "spin") ? total == (uint64_t)procs * n : 1);
    return 0;
}
'''


def build_floor(d):
    cc = shutil.which('cc') or shutil.which('gcc')
    if not cc:
        return None
    src, exe = os.path.join(d, 'floor.c'), os.path.join(d, 'floor')
    with open(src, 'w') as f:
        f.write(C_SRC)
    r = subprocess.run([cc, '-O2', '-o', exe, src], capture_output=True)
    return exe if r.returncode == 0 else None


def c_rate(exe, mode, procs, n):
    out = subprocess.run([exe, mode, str(procs), str(n)], capture_output=True, text=True).stdout.split()
    return float(out[0]), out[1] == '1'


def sa_rate(spec_pos, procs, n, pure=False):
    # procs processes (forked), each n inc64 at its own position (spec_pos(k)); total ops/s and exactness
    code = r'''
import os, sys, time
import sharedarea
procs, n, step = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
a = sharedarea.get(sharedarea.add('pages=1'))
r, w = os.pipe()
gr, gw = os.pipe()
pids = []
for k in range(procs):
    pid = os.fork()
    if pid == 0:
        f = a.inc64
        pos = 64 + k * step
        os.read(gr, 1)
        t0 = time.monotonic()
        for _ in range(n):
            f(pos)
        t1 = time.monotonic()
        os.write(w, ('%r %r\n' % (t0, t1)).encode())
        os._exit(0)
    pids.append(pid)
time.sleep(0.1)
os.write(gw, b'g' * procs)
for pid in pids:
    os.waitpid(pid, 0)
spans = [tuple(map(float, ln.split())) for ln in os.read(r, 65536).decode().split('\n') if ln]
total = sum(a.read64(64 + k * step) for k in range(procs)) if step else a.read64(64)
print(procs * n / (max(s[1] for s in spans) - min(s[0] for s in spans)), int(total == procs * n))
'''
    env = dict(os.environ)
    if pure:
        env['SHAREDAREA_PURE'] = '1'
    out = subprocess.run([sys.executable, '-c', code, str(procs), str(n), str(spec_pos)], capture_output=True,
                         text=True, env=env).stdout.split()
    return (float(out[0]), out[1] == '1') if out else (None, False)


def wlock_wait(readers, n):
    # p99 of one writer's wlock() wait (ms) while `readers` processes loop on read64; forked from one parent
    code = r'''
import os, sys, time
import sharedarea
readers, n = int(sys.argv[1]), int(sys.argv[2])
a = sharedarea.get(sharedarea.add('pages=1'))
stop = sharedarea.get(sharedarea.add('pages=1'))
pids = []
for k in range(readers):
    pid = os.fork()
    if pid == 0:
        f, s = a.read64, stop.read64
        while not s(0):
            for _ in range(200):
                f(64)
        os._exit(0)
    pids.append(pid)
time.sleep(0.2)
lat = []
for _ in range(n):
    t = time.perf_counter()
    a.wlock()
    lat.append(time.perf_counter() - t)
    a.inc64(64)
    a.unlock()
    time.sleep(0.0002)
stop.write8(0, 1)
for pid in pids:
    os.waitpid(pid, 0)
lat.sort()
print(lat[int(len(lat) * 0.99)] * 1e3, lat[len(lat) // 2] * 1e3)
'''
    out = subprocess.run([sys.executable, '-c', code, str(readers), str(n)], capture_output=True, text=True).stdout.split()
    return (float(out[0]), float(out[1])) if out else None


def med(xs):
    xs = [x for x in xs if x]
    return statistics.median(xs) if xs else None


def run(rounds=3, n=1000000, smoke=False):
    """The scaling figures: a dict (see keys), every figure the median over rounds, all measured in turn."""
    # n ops per process: at ~10 M/s a run must last far longer than the processes take to start together
    # (20,000 ops, 2 ms, read 2 processes as 0.9x of one: the span was mostly start-up skew)
    if smoke:
        rounds, n = 1, 300000
    d = tempfile.mkdtemp(prefix='sa-bench-scale-')
    res = {'rounds': rounds, 'n': n}
    try:
        exe = build_floor(d)
        rows = {k: [] for k in ('spin1', 'spin2', 'c1', 'c2sep', 'c2one', 'sa1', 'sa2sep', 'sa2one')}
        exact = {'c2sep': True, 'c2one': True, 'sa2sep': True, 'sa2one': True}
        cn = n * 100
        for _ in range(rounds):
            if exe:
                rows['spin1'].append(c_rate(exe, 'spin', 1, cn * 5)[0])
                rows['spin2'].append(c_rate(exe, 'spin', 2, cn * 5)[0])
                rows['c1'].append(c_rate(exe, 'sep', 1, cn)[0])
                for k, mode in (('c2sep', 'sep'), ('c2one', 'one')):
                    rate, ok = c_rate(exe, mode, 2, cn)
                    rows[k].append(rate)
                    exact[k] = exact[k] and ok
            rows['sa1'].append(sa_rate(64, 1, n)[0])
            for k, step in (('sa2sep', 64), ('sa2one', 0)):
                rate, ok = sa_rate(step, 2, n)
                rows[k].append(rate)
                exact[k] = exact[k] and ok
        for k, v in rows.items():
            res[k] = med(v)
        res['exact'] = exact
        # how parallel the 2 vCPUs were: 2 plain loops' total rate over one loop's (2.0 = two free cores)
        res['parallelism'] = res['spin2'] / res['spin1'] if res['spin1'] and res['spin2'] else None
        res['wlock'] = dict((r, wlock_wait(r, 200 if smoke else 2000)) for r in (1, 3, 7))
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return res


def lines(s, uwsgi2=None):
    """The rows for the table, with ratios against peers measured in the same run."""
    m = lambda x: '-' if not x else '%.2f' % (x / 1e6)
    r = lambda a, b: '-' if not a or not b else '%.2fx' % (a / b)
    ex = lambda k: ' exact' if s['exact'].get(k) else ' LOST'
    out = ['scaling with processes (M inc64/s total, median of %d rounds; issue 13 targets in brackets):' % s['rounds'],
           '  parallelism probe: 2 plain C loops ran %s as fast as one (2.00x = two free cores, 1.00x = one)'
           % r(s['spin2'], s['spin1']),
           '  %-34s %9s %9s %22s' % ('', 'sa', 'C floor', 'sa/C floor'),
           '  %-34s %9s %9s %22s' % ('1 process', m(s['sa1']), m(s['c1']), r(s['sa1'], s['c1'])),
           '  %-34s %9s %9s %22s' % ('2 processes, separate counters', m(s['sa2sep']) + ex('sa2sep'),
                                     m(s['c2sep']) + ex('c2sep'), r(s['sa2sep'], s['c2sep'])),
           '  %-34s %9s %9s %22s' % ('2 processes, one counter', m(s['sa2one']) + ex('sa2one'),
                                     m(s['c2one']) + ex('c2one'), r(s['sa2one'], s['c2one'])),
           '  2 separate / 1 process: sa %s [>= 1.50x], C floor %s' % (r(s['sa2sep'], s['sa1']), r(s['c2sep'], s['c1'])),
           '  2 on one counter: sa / uWSGI\'s 2 mules %s [>= 1.50x] (uWSGI %s M/s, from the table above)'
           % (r(s['sa2one'], uwsgi2), m(uwsgi2))]
    for k, v in sorted(s['wlock'].items()):
        out.append('  wlock wait with %d reader process(es) looping read64: p99 %s ms, p50 %s ms [p99 < 1 ms]'
                   % (k, '%.3f' % v[0] if v else '-', '%.3f' % v[1] if v else '-'))
    return out


if __name__ == '__main__':
    print('\n'.join(lines(run(smoke='--smoke' in sys.argv))))

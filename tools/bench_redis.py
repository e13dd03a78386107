# `make bench`, Redis row: a redis= area's ops/s (one client, then several processes at once), wake-up
# latency across processes, against redis-benchmark's own figures on the same server in the same run.
# Usage: python tools/bench_redis.py [--smoke] [--json PATH]. Starts its own redis-server on a free port.
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tools'))


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start_server():
    port = free_port()
    d = tempfile.mkdtemp(prefix='sa-bench-redis-')
    p = subprocess.Popen([shutil.which('redis-server'), '--port', str(port), '--bind', '127.0.0.1', '--save', '',
                          '--appendonly', 'no', '--dir', d], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.monotonic() + 10
    while time.monotonic() < end:
        try:
            with socket.create_connection(('127.0.0.1', port), 0.2) as s:
                s.sendall(b'PING\r\n')
                if s.recv(16).startswith(b'+PONG'):
                    return p, port, d
        except OSError:
            time.sleep(0.01)
    p.kill()
    raise SystemExit('bench_redis: redis-server did not start')


def rate(fn, n):
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - t)


def one_client(spec, n):
    import sharedarea
    a = sharedarea.get(sharedarea.add(spec))
    data = b'x' * 64
    out = {}
    for name, fn in (('inc64', lambda: a.inc64(16)), ('read64', lambda: a.read64(16)),
                     ('write64', lambda: a.write64(16, 7)), ('read 64 B', lambda: a.read(0, 64)),
                     ('write 64 B', lambda: a.write(0, data)), ('wlock+unlock', lambda: (a.wlock(), a.unlock()))):
        out[name] = rate(fn, n)
    a.close()
    return out


def several(spec, n, procs):
    # procs processes, each its own connection, inc64 n times at the same moment; (ops/s in all, exact?)
    import sharedarea
    a = sharedarea.get(sharedarea.add(spec))
    base = a.read64(32)
    r, w = os.pipe()
    go_r, go_w = os.pipe()
    pids = []
    for _ in range(procs):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                b = sharedarea.get(sharedarea.add(spec))
                os.read(go_r, 1)
                t0 = time.monotonic()
                for _ in range(n):
                    b.inc64(32)
                os.write(w, ('%r %r\n' % (t0, time.monotonic())).encode())
                code = 0
            finally:
                os._exit(code)
        pids.append(pid)
    time.sleep(0.2)
    os.write(go_w, b'g' * procs)
    for pid in pids:
        os.waitpid(pid, 0)
    os.close(w)
    spans = [tuple(map(float, ln.split())) for ln in os.read(r, 65536).decode().split('\n') if ln]
    total = procs * n / (max(s[1] for s in spans) - min(s[0] for s in spans))
    exact = a.read64(32) - base == procs * n
    a.close()
    return total, exact


def wake(spec, samples):
    # a writer process updates the area every few ms, stamping when; a waiter process notes when it woke
    import sharedarea
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            b = sharedarea.get(sharedarea.add(spec))
            lat = []
            u = b.updates
            os.write(w, b'r')
            for _ in range(samples):
                woke = b.wait(100, 5, u)
                t1 = time.monotonic_ns()
                u = b.updates
                if woke:  # (a wait that timed out on a starved machine is no sample)
                    lat.append((t1 - b.read64(0)) / 1e6)
            os.write(w, (' '.join('%.4f' % x for x in lat) + '\n').encode())
            code = 0
        finally:
            os._exit(code)
    a = sharedarea.get(sharedarea.add(spec))
    os.read(r, 1)
    time.sleep(0.2)
    for _ in range(samples):
        a.write64(0, time.monotonic_ns())  # (the stamp is written and published in one round trip)
        time.sleep(0.005)
    os.waitpid(pid, 0)
    os.close(w)
    lat = sorted(float(x) for x in os.read(r, 1 << 20).decode().split()) or [float('nan')]
    a.close()
    return lat[len(lat) // 2], lat[min(len(lat) - 1, int(len(lat) * 0.99))]


def micropython_client(spec, n):
    # inc64 ops/s from the MicroPython unix port, through our RESP client
    import mptest
    import stage
    exe = mptest.find_micropython()
    if not exe:
        return None
    dest = stage.stage(os.path.join(ROOT, 'build', 'mp-bench-redis'))
    code = ('import sharedarea, time\na = sharedarea.get(sharedarea.add(%r))\nt = time.ticks_ms()\n'
            'for _ in range(%d):\n    a.inc64(40)\nprint(%d * 1000 / max(1, time.ticks_diff(time.ticks_ms(), t)))\n'
            % (spec, n, n))
    p = subprocess.run([exe, '-c', code], env=dict(os.environ, MICROPYPATH=dest + ':.frozen'),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    try:
        return float(p.stdout.split()[-1])
    except (ValueError, IndexError):
        return None


def redis_benchmark(port, n, clients):
    # redis-benchmark's own ops/s for PING, GET and INCR (unpipelined), clients connections
    exe = shutil.which('redis-benchmark')
    if not exe:
        return {}
    p = subprocess.run([exe, '-p', str(port), '-n', str(n), '-c', str(clients), '-q', '-t', 'ping_mbulk,get,incr'],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    out = {}
    for ln in p.stdout.replace('\r', '\n').splitlines():
        if 'requests per second' in ln and ':' in ln:
            name, rest = ln.split(':', 1)
            try:
                out[name.strip()] = float(rest.split()[0])
            except ValueError:
                pass
    return out


def main(argv):
    smoke = '--smoke' in argv
    if not shutil.which('redis-server'):
        print('bench_redis: no redis-server (Debian: apt-get install redis-server); Redis row skipped')
        return 0
    try:
        import redis  # noqa: F401
    except ImportError:
        print('bench_redis: no redis-py (pip install "sharedarea[redis]"); Redis row skipped')
        return 0
    n, procs, samples, bn = (300, 3, 20, 2000) if smoke else (5000, 4, 300, 50000)
    proc, port, d = start_server()
    try:
        spec = 'redis=127.0.0.1:%d,key=bench,size=4096' % port
        one = one_client(spec, n)
        total, exact = several(spec, n, procs)
        p50, p99 = wake(spec, samples)
        mp = micropython_client(spec, n)
        rb1 = redis_benchmark(port, bn, 1)
        rbn = redis_benchmark(port, bn, procs)
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(d, ignore_errors=True)
    rows = [('redis= area, CPython (redis-py), 1 client', k, v, None) for k, v in one.items()]
    rows.append(('redis= area, CPython, %d processes' % procs, 'inc64 (%s)' % ('exact' if exact else 'NOT EXACT'),
                 total / procs, total))
    if mp:
        rows.append(('redis= area, MicroPython unix port (resp.py), 1 client', 'inc64', mp, None))
    for k, v in rb1.items():
        rows.append(('redis-benchmark, 1 client (the ceiling)', k, v, None))
    for k, v in rbn.items():
        rows.append(('redis-benchmark, %d clients' % procs, k, v / procs, v))
    print('Redis areas (loopback, one redis-server; %s)' % ('smoke run' if smoke else '%d ops per figure' % n))
    print('%-56s %-18s %14s %14s' % ('what', 'op', 'ops/s per client', 'ops/s in all'))
    for what, op, per, tot in rows:
        print('%-56s %-18s %14.0f %14s' % (what, op, per, '%.0f' % tot if tot else ''))
    print('wake-up across processes (write in one, wait() returns in another): p50 %.2f ms, p99 %.2f ms (%d samples)'
          % (p50, p99, samples))
    if '--json' in argv:
        path = argv[argv.index('--json') + 1]
        os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
        with open(path, 'w') as f:
            json.dump({'rows': rows, 'wake_ms': {'p50': p50, 'p99': p99}, 'smoke': smoke}, f, indent=1)
    return 0 if exact else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

# Measures a file= area between unrelated processes: wait() wake-up latency (p50/p99), a waiter's CPU while
# idle, and inc64 ops/s from one and two processes. Usage: python tools/filebench.py [trials]
import os
import resource
import subprocess
import sys
import tempfile
import time

import sharedarea


def child(path, job, n):
    a = sharedarea.get(sharedarea.add('file=%s' % path))
    if job == 'waiter':
        # wake on each update, report now - the writer's timestamp; then idle for 2 s and report CPU
        out = []
        last = a.read64(0)
        for k in range(n):
            now = time.monotonic_ns()
            while a.read64(0) == last:
                a.wait(100, 10)
                now = time.monotonic_ns()  # the moment wait() returned
            last = a.read64(0)
            out.append(now - last)
            a.write32(16, k + 1)  # tell the writer this trial is done
        t0 = resource.getrusage(resource.RUSAGE_SELF)
        a.wait(100, 2)
        t1 = resource.getrusage(resource.RUSAGE_SELF)
        print(' '.join(map(str, out)))
        print('%.6f' % ((t1.ru_utime - t0.ru_utime) + (t1.ru_stime - t0.ru_stime)))
    elif job == 'inc':
        while a.read8(24) == 0:  # start together
            pass
        t0 = time.perf_counter()
        for _ in range(n):
            a.inc64(32)
        print('%.6f' % (time.perf_counter() - t0))


def main(trials=200):
    d = tempfile.mkdtemp(prefix='sa-bench-')
    path = os.path.join(d, 'area')
    a = sharedarea.get(sharedarea.add('file=%s,size=4096' % path))
    try:
        w = subprocess.Popen([sys.executable, __file__, '--child', path, 'waiter', str(trials)], stdout=subprocess.PIPE,
                             text=True)
        time.sleep(0.5)
        for k in range(trials):
            time.sleep(0.002)  # let the waiter fall asleep
            a.write64(0, time.monotonic_ns())
            t = time.monotonic()
            while a.read32(16) != k + 1:
                if w.poll() is not None or time.monotonic() - t > 10:
                    raise SystemExit('filebench: the waiter stopped answering')
                time.sleep(0.0001)
        lat, cpu = w.communicate(timeout=60)[0].split('\n')[:2]
        lat = sorted(int(x) / 1e6 for x in lat.split())
        p50, p99 = lat[len(lat) // 2], lat[int(len(lat) * 0.99) - 1]
        print('wait() wake-up latency over %d trials: p50 %.3f ms, p99 %.3f ms, max %.3f ms' % (trials, p50, p99, lat[-1]))
        print('waiter CPU while idle for 2 s (freq=100): %.1f ms' % (float(cpu) * 1000))
        n = 200000
        t0 = time.perf_counter()
        for _ in range(n):
            a.inc64(40)
        print('inc64, 1 process: %.0f ops/s' % (n / (time.perf_counter() - t0)))
        n = 100000
        ps = [subprocess.Popen([sys.executable, __file__, '--child', path, 'inc', str(n)], stdout=subprocess.PIPE, text=True)
              for _ in range(2)]
        time.sleep(0.5)
        a.write8(24, 1)
        secs = [float(p.communicate(timeout=300)[0]) for p in ps]
        total = a.read64(32)
        print('inc64, 2 processes: %.0f ops/s together (total %d, %s)'
              % (2 * n / max(secs), total, 'exact' if total == 2 * n else 'WRONG'))
    finally:
        a.close()  # the last user removes the companion too
        os.unlink(path)
        os.rmdir(d)


if __name__ == '__main__':
    if sys.argv[1:2] == ['--child']:
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        main(*map(int, sys.argv[1:]))

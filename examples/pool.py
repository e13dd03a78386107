# A multiprocessing Pool whose workers count into one area: with the fork and the spawn start methods.
# Usage: python examples/pool.py   (CPython on Linux)
import multiprocessing
import os
import tempfile

import sharedarea

JOBS, EACH = 8, 1000
area = None  # each worker's own handle on the area, opened once by init()


def init(spec):
    # runs once in each worker: a file area is opened by its spec, so it works with any start method
    global area
    area = sharedarea.get(sharedarea.add(spec))


def job(k):
    for _ in range(EACH):
        area.inc64(0)  # atomic across all the workers
        area.inc64(8 + 8 * k)


def run(method, spec):
    mine = sharedarea.get(sharedarea.add(spec))
    mine.write(0, bytes(mine.size))
    ctx = multiprocessing.get_context(method)
    with ctx.Pool(4, initializer=init, initargs=(spec,)) as pool:
        pool.map(job, range(JOBS), chunksize=1)
    per_job = [mine.read64(8 + 8 * k) for k in range(JOBS)]
    print('%-5s: total %d (expected %d); each of the %d jobs counted %s' % (
        method, mine.read64(0), JOBS * EACH, JOBS, ', '.join(sorted(set(map(str, per_job))))))
    mine.close()


if __name__ == '__main__':
    with tempfile.TemporaryDirectory(dir='/dev/shm' if os.path.isdir('/dev/shm') else None) as d:
        spec = 'file=%s/pool-area,size=4096' % d
        for method in ('fork', 'spawn'):
            run(method, spec)

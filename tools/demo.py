# The main job in a minute: workers share one area - a counter each, a shared total, a message slot -
# while a watcher sleeps in wait() and wakes on their updates. CPython: processes; MicroPython: threads.
import sys
import time

import sharedarea

WORKERS = 3
ROUNDS = 2000
# layout of the area: total at 0, one counter per worker at 8, 16, 24, message slot (32 bytes) at 64
TOTAL, SLOT, MSG = 0, 8, 64
MP = sys.implementation.name == 'micropython'


def worker(a, k):
    for n in range(1, ROUNDS + 1):
        a.inc64(SLOT + 8 * k)
        a.inc64(TOTAL)
        if n % (ROUNDS // 2) == 0:
            with a.wlock():  # the slot is written and the counter read as one step
                a.write(MSG, ('worker %d at %d' % (k, n)).encode() + b'\0' * 16)


def watcher(a, seen):
    # wakes on updates instead of polling; prints what it sees whenever the message changes
    last = b''
    n = a.updates
    while True:
        a.wait(10, 2, since=n)  # since: an update made between two waits is not missed
        n = a.updates
        msg = a.read(MSG, 32).rstrip(b'\0')
        if msg != last:
            last = msg
            print('  watcher woke: total=%-6d message=%r' % (a.read64(TOTAL), msg.decode()))
        if a.read64(TOTAL) >= WORKERS * ROUNDS:
            seen.append(a.updates)
            return


def main():
    i = sharedarea.add('pages=1')
    a = sharedarea.get(i)
    kind = 'threads on MicroPython' if MP else 'processes on CPython'
    print('sharedarea %d: %d bytes, %d workers (%s), %d increments each' % (i, a.size, WORKERS, kind, ROUNDS))
    t0 = time.ticks_ms() if MP else time.monotonic()
    seen = []
    if MP:
        import _thread
        left = [WORKERS]
        lk = _thread.allocate_lock()

        def run(k):
            worker(a, k)
            with lk:
                left[0] -= 1
        _thread.start_new_thread(watcher, (a, seen))
        for k in range(WORKERS):
            _thread.start_new_thread(run, (k,))
        while left[0] or not seen:
            time.sleep_ms(10)
        dt = time.ticks_diff(time.ticks_ms(), t0) / 1000
    else:
        import os
        pids = []
        for k in range(WORKERS):
            pid = os.fork()
            if pid == 0:
                try:
                    worker(a, k)
                finally:
                    os._exit(0)
            pids.append(pid)
        watcher(a, seen)
        for pid in pids:
            os.waitpid(pid, 0)
        dt = time.monotonic() - t0
    counts = [a.read64(SLOT + 8 * k) for k in range(WORKERS)]
    total = a.read64(TOTAL)
    print('  per worker: %s  total: %d  updates: %d  (%.2f s)' % (counts, total, a.updates, dt))
    ok = total == WORKERS * ROUNDS and counts == [ROUNDS] * WORKERS
    print('  %s: no increment lost' % ('OK' if ok else 'WRONG'))
    return ok


if __name__ == '__main__':
    if not main():
        sys.exit(1)

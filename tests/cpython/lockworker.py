# A separate program for the lock tests (test_locks_edges.py): started with subprocess, it opens an area
# by its spec and does what argv says, printing one line per step.
import os
import sys
import time

import sharedarea


def main(spec, job, *args):
    a = sharedarea.get(sharedarea.add(spec))
    if job == 'touch':
        print('joined', flush=True)  # joins the companion's users and leaves at once
    elif job == 'try-write':
        print('trying', flush=True)
        a.write8(100, 5)
        print('wrote', flush=True)
    elif job == 'try-rlock':
        print('trying', flush=True)
        a.rlock()
        print('locked', flush=True)
        a.unlock()
    elif job == 'hold':
        a.wlock() if args[0] == 'wlock' else a.rlock()
        print('ready', os.getpid(), flush=True)
        sys.stdin.readline()
        a.unlock()
        print('done', flush=True)
    elif job == 'die-holding':
        # take wlock, say so, and end without letting go (as a crash does)
        a.wlock()
        print('ready', os.getpid(), flush=True)
        os._exit(0)
    elif job == 'storm':
        # lock forms and plain ops under a storm of SIGINTs for secs; then: did any hold stay behind? The
        # handler raises only while armed (inside the try), so the loop's own bytecodes are never cut
        import signal
        armed = [0]

        def interrupt(sig, frame):
            if armed[0]:
                raise KeyboardInterrupt

        signal.signal(signal.SIGINT, interrupt)
        end = time.monotonic() + float(args[0])
        ops = interrupted = 0
        print('ready', flush=True)
        while time.monotonic() < end:
            try:
                armed[0] = 1
                with a.wlock():
                    ops += 1
                with a.rlock():
                    ops += 1
                a.inc64(0)
                armed[0] = 0
            except KeyboardInterrupt:
                armed[0] = 0
                interrupted += 1
        armed[0] = 0
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        leaked = 0
        while True:
            try:
                a.unlock()
                leaked += 1
            except sharedarea.SharedAreaError:
                break
        print('interrupted', interrupted, 'leaked', leaked, 'ops', ops, flush=True)
    elif job == 'interrupted-wait':
        # waits for the write lock another process holds; a SIGINT must end the wait (KeyboardInterrupt),
        # leave nothing held and no signal blocked, and the next try must get the lock once it is free
        import signal
        print('trying', flush=True)
        try:
            a.write8(100, 7)
            print('wrote-before-interrupt', flush=True)
        except KeyboardInterrupt:
            print('interrupted', flush=True)
        try:
            a.unlock()
            print('held-something', flush=True)
        except sharedarea.SharedAreaError:
            pass
        print('blocked-signals', sorted(int(s) for s in signal.pthread_sigmask(signal.SIG_BLOCK, [])), flush=True)
        a.write8(100, 8)
        print('wrote', a.read8(100), flush=True)
    elif job == 'count':
        # n inc64 at pos 0, as fast as it goes
        for _ in range(int(args[0])):
            a.inc64(0)
        print('done', flush=True)
    elif job == 'sleep':
        print('ready', flush=True)
        time.sleep(float(args[0]))


if __name__ == '__main__':
    main(*sys.argv[1:])

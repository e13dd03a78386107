# A separate program for the file-area tests: started with subprocess (no fork), it opens the same file
# area and does what argv says, printing its results as "key value" lines.
import os
import sys
import time

import sharedarea


def main(spec, job, *args):
    a = sharedarea.get(sharedarea.add(spec))
    if job == 'mixed':
        # n rounds of inc64 / dec32 / write / read; the written block is all one byte, so a torn read shows
        n, me = int(args[0]), int(args[1])
        block = bytes([65 + me]) * 64
        torn = 0
        for k in range(n):
            a.inc64(0)
            a.dec32(8, 2)
            if k % 4 == 0:
                a.write(64, block)
            else:
                r = a.read(64, 64)
                if r.count(r[0:1]) != 64:
                    torn += 1
        print('torn', torn)
    elif job == 'hold':
        # take wlock (or loop inside ops), say so, then wait to be killed or told to go on
        a.wlock() if args[0] == 'wlock' else None
        print('ready', flush=True)
        if args[0] == 'ops':
            while True:
                a.inc64(0)
                a.write(16, os.urandom(48))
        sys.stdin.readline()
        a.write8(200, 1)
        a.unlock()
    elif job == 'write':
        time.sleep(float(args[1]))
        a.write(0, args[0].encode())
    elif job == 'wait':
        print('waiting', flush=True)
        print('woke', a.wait(int(args[0]), float(args[1])), a.read(0, 8).rstrip(b'\0').decode(), flush=True)
    elif job == 'try-write':
        print('trying', flush=True)
        a.write8(100, 5)
        print('wrote', a.read8(200))


if __name__ == '__main__':
    main(*sys.argv[1:])

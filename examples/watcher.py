# Two unrelated programs sharing a file area, part 2 of 2: this one prints each reading producer.py writes.
# Usage: python examples/watcher.py [PATH] [COUNT]   (start it before or after the producer)
import sys

import sharedarea

SEQ, TEMP, STATUS = 0, 8, 16  # the same layout as producer.py
path = sys.argv[1] if len(sys.argv) > 1 else '/dev/shm/sharedarea-example'
count = int(sys.argv[2]) if len(sys.argv) > 2 else 10

area = sharedarea.get(sharedarea.add('file=%s,size=64' % path))
seq = 0
while seq < count:
    with area.rlock():  # the three fields as one step: the producer writes them under wlock
        new, temp, status = area.read64(SEQ), area.read32(TEMP), area.read(STATUS, 32).rstrip(b'\0')
    if new != seq:
        seq = new
        print('watcher: #%d  %.1f C  (%s)' % (seq, temp / 1000, status.decode()), flush=True)
    else:
        # sleeps in the kernel until another process updates the area (no polling); the timeout only
        # bounds what a wake-up that came between our read and this call can cost
        area.wait(timeout=0.5)
area.close()

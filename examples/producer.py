# Two unrelated programs sharing a file area, part 1 of 2: this one writes readings (run watcher.py too).
# Usage: python examples/producer.py [PATH] [COUNT]   (CPython; PATH defaults to /dev/shm/sharedarea-example)
import random
import sys
import time

import sharedarea

# the area's layout, agreed by both programs: sequence number, temperature (milli-degrees C), a status text
SEQ, TEMP, STATUS = 0, 8, 16
path = sys.argv[1] if len(sys.argv) > 1 else '/dev/shm/sharedarea-example'
count = int(sys.argv[2]) if len(sys.argv) > 2 else 10

area = sharedarea.get(sharedarea.add('file=%s,size=64' % path))  # made (0600) if missing
for n in range(1, count + 1):
    with area.wlock():  # the watcher reads the three fields as one step, under rlock
        area.write32(TEMP, 20000 + random.randint(-500, 500))
        area.write(STATUS, ('reading %d of %d' % (n, count)).encode().ljust(32, b'\0'))
        area.write64(SEQ, n)  # last: a new number means a whole new reading
    time.sleep(0.1)
print('producer: wrote %d readings to %s' % (count, path))
area.close()

# The MicroPython side of tools/bench_web.py (it runs on CPython too): the dashboard's app over an area, and
# a writer thread that stamps the area (microseconds since the epoch at the dashboard's STAMP) as the client
# asks over the WebSocket: "mode ack" then "ack" (write the next stamp once the client has the last one),
# "mode free" (write every 0.1 ms), "mode stop". Usage: bench_web_server.py PORT (examples/ on the path).
import sys
import time

import _thread

import dashboard as D
import sharedarea

area = sharedarea.get(sharedarea.add('size=%d' % D.SIZE))
go = _thread.allocate_lock()
go.acquire()
mode = ['stop']

if hasattr(time, 'time_ns'):
    def now_us():
        return time.time_ns() // 1000
else:
    def now_us():
        return int(time.time() * 1000000)


def nap(us):
    if hasattr(time, 'sleep_us'):
        time.sleep_us(us)
    else:
        time.sleep(us / 1e6)


def writer():
    while True:
        m = mode[0]
        if m == 'ack':
            go.acquire()
            if mode[0] == 'ack':
                area.write64(D.STAMP, now_us())
        elif m == 'free':
            area.write64(D.STAMP, now_us())
            nap(100)
        else:
            nap(10000)


def on_message(m):
    if m == 'ack' or m.startswith('mode '):
        if m != 'ack':
            mode[0] = m[5:]
        if go.locked():
            go.release()
    else:
        D.command(area, m)


_thread.start_new_thread(writer, ())
print('ready')
if hasattr(sys.stdout, 'flush'):
    sys.stdout.flush()
D.make_app(area, on_message).run(host='127.0.0.1', port=int(sys.argv[1]))

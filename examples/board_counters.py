# A board program: a "sensor" interrupt (machine.Timer) or thread counts events while the main loop reads
# and resets the counters. MicroPython on a board, the unix port, or CPython. Usage: run it; it stops alone.
import time

import sharedarea

EVENTS, TICKS, MAX = 0, 2, 4  # 16-bit counters: these ops allocate nothing, so a hard IRQ may call them
area = sharedarea.get(sharedarea.add(bytearray(8)))


def sensor(_=None):
    # one "reading": count it, keep the most seen between two reads; short and allocation-free, as IRQ handlers must be
    n = area.inc16(EVENTS)
    area.inc16(TICKS)
    if n > area.read16(MAX):
        area.write16(MAX, n)


def start_sensor():
    try:
        from machine import Timer
        Timer(-1).init(freq=200, mode=Timer.PERIODIC, callback=sensor)
        return 'machine.Timer interrupt'
    except (ImportError, AttributeError, ValueError):
        pass  # no timer here (the unix port, CPython): a thread does the same job
    try:
        import _thread
        start = _thread.start_new_thread
    except ImportError:
        import threading
        start = lambda f, a: threading.Thread(target=f, args=a, daemon=True).start()  # noqa: E731

    def loop():
        while True:
            sensor()
            time.sleep(0.005)
    start(loop, ())
    return 'thread'


print('sensor: %s' % start_sensor())
seen = 0
for second in range(5):
    time.sleep(0.2)
    with area.wlock():  # read and reset as one step: no event is lost between the two
        n = area.read16(EVENTS)
        area.write16(EVENTS, 0)
    seen += n
    print('main loop: %d events in the last 0.2 s' % n)
print('done: %d events counted, %d ticks, most between two reads %d' % (seen, area.read16(TICKS), area.read16(MAX)))

# Portable regression tests: close() while other threads hold or wait for the area never blocks and
# wakes them with SharedAreaError; an area over a bytearray its owner then resizes never touches freed
# memory; wait() with an infinite poll period still times out; the integer ops allocate nothing.
import sharedarea
from sharedarea import SharedAreaError
from sa_testutil import need_threads, raises, skip, sleep_ms, start_thread, ticks_ms


def new(size=64):
    return sharedarea.get(sharedarea.add('size=%d' % size))


def until(cond, ms=5000):
    # waits up to ms for cond() to be true; returns it
    t0 = ticks_ms()
    while not cond() and ticks_ms() - t0 < ms:
        sleep_ms(5)
    return cond()


def test_close_while_another_thread_holds_wlock_returns():
    need_threads()
    a = new()
    got = {}

    def holder():
        a.wlock()
        got['held'] = True
        until(lambda: 'closed' in got)
        try:
            a.unlock()
        except SharedAreaError as e:
            got['unlock'] = e

    def closer():
        a.close()
        got['closed'] = True
    start_thread(holder)
    assert until(lambda: 'held' in got)
    start_thread(closer)  # (in a thread of its own: if close() blocked, this test would hang)
    assert until(lambda: 'closed' in got), 'close() blocked while another thread held wlock'
    assert until(lambda: 'unlock' in got), "the holder's unlock() after close() did not raise"
    b = new()  # nothing else is stuck
    b.wlock()
    b.unlock()


def test_close_wakes_a_waiter_without_timeout():
    need_threads()
    a = new()
    got = {}

    def waiter():
        got['started'] = True
        try:
            got['result'] = a.wait()
        except SharedAreaError as e:
            got['error'] = e
    start_thread(waiter)
    assert until(lambda: 'started' in got)
    sleep_ms(50)
    a.close()
    assert until(lambda: 'error' in got or 'result' in got), 'wait() was not woken by close()'
    assert 'error' in got and 'closed' in str(got['error']), got


def test_close_wakes_a_thread_waiting_for_wlock():
    need_threads()
    a = new()
    got = {}
    a.wlock()

    def writer():
        got['started'] = True
        try:
            a.write8(0, 1)  # waits for our wlock
            got['wrote'] = True
        except SharedAreaError as e:
            got['error'] = e
    start_thread(writer)
    assert until(lambda: 'started' in got)
    sleep_ms(50)
    assert not got.get('wrote')
    a.close()  # drops our wlock: the writer wakes and finds the area closed
    assert until(lambda: 'error' in got or 'wrote' in got), 'a thread waiting for wlock was not woken by close()'
    assert 'error' in got, got
    raises(SharedAreaError, a.unlock)


def grown(size):
    # a bytearray and an area over it, then the bytearray grown (MicroPython moves it); skips where the
    # runtime refuses to resize a buffer that is in use (CPython: BufferError)
    b = bytearray(size)
    a = sharedarea.get(sharedarea.add(b))
    try:
        b.extend(bytes(4096))
    except Exception as e:  # CPython: BufferError (MicroPython has no such name)
        skip('this runtime refuses to resize a bytearray an area is using (%s)' % type(e))
    return a, b


def test_area_over_a_grown_bytearray_refuses_every_op():
    a, b = grown(16)
    before = bytes(b)
    for call in (lambda: a.read(0), lambda: a.read(0, 4), lambda: a.write(0, b'xyz'), lambda: a.read8(1),
                 lambda: a.write16(2, 7), lambda: a.inc32(4), lambda: a.dec64(8), lambda: a.read64(8),
                 lambda: a.readfast(0, bytearray(4)), lambda: a.update()):
        e = raises(SharedAreaError, call)
        assert 'size' in str(e), e
    assert bytes(b) == before  # nothing was written, in its new memory or anywhere else
    a.close()


def test_area_over_a_shrunk_bytearray_refuses_every_op():
    b = bytearray(32)
    a = sharedarea.get(sharedarea.add(b))
    try:
        del b[8:]
    except Exception as e:  # CPython: BufferError; a MicroPython without slice deletion: TypeError
        skip('this runtime cannot shrink a bytearray an area is using (%s)' % type(e))
    for call in (lambda: a.read(0, 4), lambda: a.write8(20, 1), lambda: a.inc64(16), lambda: a.read32(24)):
        raises(SharedAreaError, call)
    assert b == bytearray(8)


def test_wait_with_an_infinite_poll_period_times_out():
    a = new()
    t0 = ticks_ms()
    assert a.wait(float('inf'), 0.01) is False
    assert ticks_ms() - t0 < 2000


def test_int_ops_allocate_nothing_32_and_64_bits():
    try:
        import micropython
        micropython.heap_lock
    except (ImportError, AttributeError):
        skip('needs micropython.heap_lock (MicroPython only)')
    a = new(32)
    r32, w32, i32, d32 = a.read32, a.write32, a.inc32, a.dec32
    r64, w64, i64, d64 = a.read64, a.write64, a.inc64, a.dec64
    micropython.heap_lock()
    try:
        w32(0, -70000)
        i32(0, 5)
        d32(0)
        w64(8, 123456)
        i64(8)
        d64(8, 1000)
        w64(16, -2)
        i64(16, 1)
        v = r32(0) + r64(8) + r64(16) + i32(24) + d32(28)
    finally:
        micropython.heap_unlock()
    assert v == -69996 + 122457 - 1 + 1 - 1, v


def test_int_ops_allocate_nothing_on_a_buffer_area():
    try:
        import micropython
        micropython.heap_lock
    except (ImportError, AttributeError):
        skip('needs micropython.heap_lock (MicroPython only)')
    a = sharedarea.get(sharedarea.add(bytearray(16)))
    r8, w16, i8, d16, r32, w64 = a.read8, a.write16, a.inc8, a.dec16, a.read32, a.write64
    micropython.heap_lock()
    try:
        w16(0, 300)
        i8(2)
        d16(0, 2)
        w64(8, -5)
        v = r8(2) + r32(0)
    finally:
        micropython.heap_unlock()
    assert v == 1 + (298 + (1 << 16))

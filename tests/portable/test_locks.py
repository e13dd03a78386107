# Portable tests: reader/writer locks that nest for their holder, atomicity between threads, wait(),
# and (on MicroPython) that the 8/16-bit ops allocate nothing.
import sharedarea
from sharedarea import SharedAreaError
from sa_testutil import raises, run_threads, start_thread, need_threads, sleep_ms, ticks_ms, skip


def new(size=64):
    return sharedarea.get(sharedarea.add('size=%d' % size))


def test_wlock_nests_for_its_holder():
    a = new()
    a.wlock()
    a.wlock()  # a second wlock by the holder does not deadlock (uWSGI hangs here)
    a.inc64(0)  # nor does an op made while holding it
    a.write(8, b'x')
    assert a.read64(0) == 1
    a.rlock()
    a.unlock()
    a.unlock()
    a.unlock()
    raises(SharedAreaError, a.unlock)


def test_with_wlock_unlocks_even_on_error():
    a = new()
    with a.wlock():
        a.write8(0, 3)
    raises(SharedAreaError, a.unlock)
    try:
        with a.wlock():
            a.write8(0, 4)
            raise KeyError('boom')
    except KeyError:
        pass
    raises(SharedAreaError, a.unlock)
    assert a.read8(0) == 4


def test_unlock_without_lock_is_an_error():
    a = new()
    e = raises(SharedAreaError, a.unlock)
    assert 'unlock' in str(e) and ('sharedarea %d' % a.id) in str(e)


def test_rlock_allows_reads_and_refuses_writes():
    a = new()
    a.write8(0, 7)
    a.rlock()
    a.rlock()
    assert a.read8(0) == 7
    assert a.read(0, 1) == b'\x07'
    u = a.updates
    before = a.read(0)
    for call in (lambda: a.write8(0, 1), lambda: a.inc64(0), lambda: a.write(0, b'z'), lambda: a.update()):
        e = raises(SharedAreaError, call)
        assert 'rlock' in str(e)
    assert a.read(0) == before and a.updates == u
    a.unlock()
    a.unlock()
    raises(SharedAreaError, a.unlock)
    a.write8(0, 1)  # nothing was left held


def test_threads_inc64_exact():
    need_threads()
    a = new()
    n = 20000

    def work(i):
        for _ in range(n):
            a.inc64(8)
    run_threads(4, work)
    assert a.read64(8) == 4 * n


def test_threads_mixed_widths_exact():
    need_threads()
    a = new()
    n = 5000

    def work(i):
        for _ in range(n):
            a.inc8(0)
            a.dec16(2)
            a.inc32(5, 3)
            a.dec64(9, 2)
    run_threads(4, work)
    assert a.read8(0) == (4 * n) % 256 - (256 if (4 * n) % 256 > 127 else 0)
    assert a.read16(2) == -4 * n
    assert a.read32(5) == 12 * n
    assert a.read64(9) == -8 * n


def test_reads_never_see_half_a_write():
    need_threads()
    a = new(256)
    pats = (b'A' * 200, b'B' * 200)
    a.write(0, pats[0])
    stop = [False]
    bad = []

    def writer():
        k = 0
        while not stop[0]:
            a.write(0, pats[k & 1])
            k += 1
    start_thread(writer)
    try:
        for _ in range(3000):
            r = a.read(0, 200)
            if r not in pats:
                bad.append(r)
    finally:
        stop[0] = True
        sleep_ms(20)
    assert not bad


def test_wlock_excludes_other_threads():
    need_threads()
    a = new()
    seen = []
    a.wlock()

    def other():
        a.write8(0, 2)  # must wait for unlock
        seen.append(a.read8(1))
    start_thread(other)
    sleep_ms(100)
    assert a.read8(0) == 0  # the other thread could not write yet
    a.write8(1, 5)
    a.unlock()
    t0 = ticks_ms()
    while not seen and ticks_ms() - t0 < 5000:
        sleep_ms(5)
    assert seen == [5] and a.read8(0) == 2


def test_two_threads_share_rlock():
    need_threads()
    a = new()
    got = []
    a.rlock()

    def other():
        a.rlock()  # shared: does not wait for us
        got.append(a.read8(0))
        a.unlock()
    start_thread(other)
    t0 = ticks_ms()
    while not got and ticks_ms() - t0 < 5000:
        sleep_ms(5)
    a.unlock()
    assert got == [0]


def test_wait_times_out_false():
    a = new()
    t0 = ticks_ms()
    assert a.wait(10, 0.15) is False
    dt = ticks_ms() - t0
    assert 100 <= dt < 2000, dt


def test_wait_wakes_on_update_from_thread():
    need_threads()
    a = new()

    def later():
        sleep_ms(50)
        a.inc32(0)
    start_thread(later)
    t0 = ticks_ms()
    assert a.wait(20, 5) is True
    assert ticks_ms() - t0 < 4000
    assert a.read32(0) == 1


def test_wait_forever_wakes():
    need_threads()
    a = new()

    def later():
        sleep_ms(50)
        a.write(0, b'go')
    start_thread(later)
    assert a.wait() is True
    assert a.read(0, 2) == b'go'


def test_wait_bad_args():
    a = new()
    raises(SharedAreaError, a.wait, 0, 1)
    raises(SharedAreaError, a.wait, 10, -1)
    raises(TypeError, a.wait, 10, '1')


def test_small_int_ops_allocate_nothing():
    try:
        import micropython
        micropython.heap_lock
    except (ImportError, AttributeError):
        skip('needs micropython.heap_lock (MicroPython only)')
    a = new(16)
    r8, r16, w8, w16 = a.read8, a.read16, a.write8, a.write16
    i8, i16, d8, d16 = a.inc8, a.inc16, a.dec8, a.dec16
    micropython.heap_lock()
    try:
        w8(0, 100)
        w16(2, -300)
        i8(0)
        i16(2, 5)
        d8(0, 2)
        d16(2)
        v = r8(0) + r16(2)
    finally:
        micropython.heap_unlock()
    assert v == 99 - 296


def test_close_lets_go_of_held_locks():
    b = bytearray(8)
    i = sharedarea.add(b)
    a = sharedarea.get(i)
    a.wlock()
    a.wlock()
    a.close()
    raises(SharedAreaError, a.unlock)
    a2 = new()
    a2.rlock()
    a2.close()

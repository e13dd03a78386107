# await area.changed(): woken by another thread within 1 s, from since, at its timeout, cancelled, on a
# closed area. Runs under pytest (CPython) and tools/mptest.py (MicroPython), wherever asyncio is.
import asyncio

import sharedarea
from sa_testutil import need_threads, raises, sleep_ms, start_thread, ticks_ms


def _area():
    return sharedarea.get(sharedarea.add('size=64'))


def _write_later(a, ms, pos=0, value=7):
    def later():
        sleep_ms(ms)
        try:
            a.write8(pos, value)
        except sharedarea.SharedAreaError as e:
            assert 'closed' in str(e), e  # the test was over first, and closed the area
    start_thread(later)


def test_changed_wakes_for_a_write_by_another_thread():
    need_threads()
    a = _area()
    n0 = a.updates

    async def main():
        _write_later(a, 100)
        t0 = ticks_ms()
        n = await a.changed()
        return n, ticks_ms() - t0
    n, dt = asyncio.run(main())
    assert n == n0 + 1 and 50 <= dt < 1000, (n, dt)
    a.close()


def test_changed_returns_at_once_when_the_count_is_not_since():
    a = _area()
    a.write8(0, 1)
    a.write8(0, 2)
    n = a.updates
    assert asyncio.run(a.changed(since=n - 2)) == n
    assert asyncio.run(a.changed(n - 1, 5)) == n
    a.close()


def test_changed_from_since_waits_for_the_next_update():
    need_threads()
    a = _area()
    n = a.updates

    async def main():
        _write_later(a, 50)
        return await a.changed(since=n, timeout=5)
    assert asyncio.run(main()) == n + 1
    a.close()


def test_changed_gives_false_at_its_timeout():
    a = _area()

    async def main():
        t0 = ticks_ms()
        r = await a.changed(timeout=0.1)
        return r, ticks_ms() - t0
    r, dt = asyncio.run(main())
    assert r is False and 80 <= dt < 1000, (r, dt)
    assert asyncio.run(a.changed(timeout=0)) is False  # no time to wait: the count is as it was
    a.close()


def test_many_tasks_wake_on_one_update():
    need_threads()
    a = _area()
    n0 = a.updates

    async def main():
        tasks = [asyncio.create_task(a.changed(timeout=5)) for _ in range(5)]
        await asyncio.sleep(0.05)
        _write_later(a, 20)
        got = []
        for t in tasks:  # (no await inside a comprehension on MicroPython)
            got.append(await t)
        return got
    assert asyncio.run(main()) == [n0 + 1] * 5
    a.close()


def test_a_cancelled_wait_leaves_nothing_behind():
    a = _area()

    async def main():
        t = asyncio.create_task(a.changed())
        await asyncio.sleep(0.05)
        t.cancel()
        try:
            await t
        except asyncio.CancelledError:
            return 'cancelled'
    t0 = ticks_ms()
    assert asyncio.run(main()) == 'cancelled'
    assert ticks_ms() - t0 < 1000  # asyncio.run did not wait for anything left running
    try:
        import threading
    except ImportError:
        threading = None
    if threading is not None:  # CPython: the area's helper thread ends once nobody waits
        while any(t.name == 'sharedarea-changed' for t in threading.enumerate()):
            assert ticks_ms() - t0 < 1500, 'the helper thread is still running'
            sleep_ms(20)
    a.write8(0, 1)  # wakes nobody, breaks nothing
    assert asyncio.run(a.changed(a.updates - 1)) == a.updates
    a.close()


def test_closing_the_area_wakes_a_waiter_with_the_error():
    need_threads()
    a = _area()

    def close_later():
        sleep_ms(50)
        a.close()

    async def main():
        start_thread(close_later)
        try:
            await a.changed(timeout=5)
        except sharedarea.SharedAreaError as e:
            return e
    e = asyncio.run(main())
    assert isinstance(e, sharedarea.SharedAreaError) and 'closed' in str(e), e
    raises(sharedarea.SharedAreaError, asyncio.run, a.changed())


def test_changed_checks_its_arguments():
    a = _area()
    raises(TypeError, asyncio.run, a.changed('1'))
    raises(TypeError, asyncio.run, a.changed(None, '1'))
    a.close()

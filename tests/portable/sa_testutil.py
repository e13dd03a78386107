# Helpers the portable tests share: skip() and raises() that work under pytest and under our own runner,
# plus small thread helpers built on _thread (present on CPython and on threaded MicroPython ports).
import time

try:
    import pytest

    def skip(why):
        pytest.skip(why)
except ImportError:
    class SkipTest(Exception):
        pass

    def skip(why):
        raise SkipTest(why)

try:
    import _thread
except ImportError:
    _thread = None


def raises(exc, fn, *args):
    # call fn(*args), which must raise exc; returns the exception for checks on its message
    try:
        fn(*args)
    except exc as e:
        return e
    raise AssertionError('%s%r did not raise %s' % (getattr(fn, '__name__', fn), args, exc.__name__))


def address_of(buf):
    # the address of a bytearray's bytes, for a ptr= area over memory the test owns
    try:
        import uctypes
        return uctypes.addressof(buf)
    except ImportError:
        pass
    try:
        import ctypes
    except ImportError:  # no uctypes (the micro:bit): the bytearray object holds its bytes' address 12 bytes in
        from machine import mem32
        return mem32[id(buf) + 12]
    return ctypes.addressof((ctypes.c_char * len(buf)).from_buffer(buf))


def need_memoryview():
    try:
        memoryview(b'')
    except NameError:
        skip('needs memoryview: this port has none')


def need_threads():
    if _thread is None:
        skip('needs threads (_thread): this port has none')


def sleep_ms(ms):
    if hasattr(time, 'sleep_ms'):
        time.sleep_ms(ms)
    else:
        time.sleep(ms / 1000)


def ticks_ms():
    if hasattr(time, 'ticks_ms'):
        return time.ticks_ms()
    return int(time.monotonic() * 1000)


def run_threads(n, fn):
    # start n threads running fn(i) and wait for all; re-raises the first failure
    need_threads()
    lock = _thread.allocate_lock()
    state = {'left': n, 'err': None}

    def body(i):
        try:
            fn(i)
        except Exception as e:
            state['err'] = e
        lock.acquire()
        state['left'] -= 1
        lock.release()
    for i in range(n):
        _thread.start_new_thread(body, (i,))
    t0 = ticks_ms()
    while state['left']:
        sleep_ms(5)
        assert ticks_ms() - t0 < 120000, 'threads did not finish in 120 s'
    if state['err'] is not None:
        raise state['err']


def start_thread(fn):
    need_threads()
    _thread.start_new_thread(fn, ())

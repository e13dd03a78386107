# CPython-only tests: areas shared with forked processes, locks that survive a dead holder, wait() across
# processes, ptr= through ctypes, and buffer areas over other buffer types.
import array
import ctypes
import os
import time

import pytest

import sharedarea
from sharedarea import SharedAreaError
from sa_proc import fork, join, kill_holder


def new(spec='pages=1'):
    return sharedarea.get(sharedarea.add(spec))


def test_child_sees_and_changes_the_same_bytes():
    a = new()
    a.write(0, b'parent')

    def child():
        assert a.read(0, 6) == b'parent'
        a.write(8, b'child')
    assert join(fork(child)) == 0
    assert a.read(8, 5) == b'child'


def test_two_processes_inc64_exact():
    a = new()
    n = 20000

    def work():
        for _ in range(n):
            a.inc64(16)
    pids = [fork(work) for _ in range(2)]
    assert [join(p) for p in pids] == [0, 0]
    assert a.read64(16) == 2 * n


def test_processes_and_threads_together_exact():
    import threading
    a = new()
    n = 3000

    def work():
        ts = [threading.Thread(target=lambda: [a.inc32(4) for _ in range(n)]) for _ in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    pids = [fork(work) for _ in range(2)]
    work()
    assert [join(p) for p in pids] == [0, 0]
    assert a.read32(4) == 6 * n


def test_wlock_excludes_another_process():
    a = new()
    a.wlock()
    pid = fork(lambda: a.write8(0, 9))
    time.sleep(0.2)
    assert a.read8(0) == 0  # the child is still waiting for the lock
    a.unlock()
    assert join(pid) == 0
    assert a.read8(0) == 9


def test_rlock_is_shared_between_processes():
    a = new()
    a.rlock()
    pid = fork(lambda: (a.rlock(), a.read8(0), a.unlock()))
    assert join(pid, 10) == 0  # the child's rlock did not wait for ours
    a.unlock()


def test_dead_holder_does_not_block():
    a = new()
    kill_holder(a.wlock)
    t0 = time.monotonic()
    a.wlock()
    a.inc64(0)
    a.unlock()
    assert time.monotonic() - t0 < 1.0
    assert a.read64(0) == 1


def test_fork_while_a_thread_holds_the_lock():
    # the child inherits memory, not our lock: it must be able to lock once the parent lets go
    a = new()
    a.wlock()
    pid = fork(lambda: a.inc8(0))
    time.sleep(0.1)
    a.unlock()
    assert join(pid, 10) == 0
    assert a.read8(0) == 1


def test_wait_wakes_on_update_from_another_process():
    a = new()

    def child():
        time.sleep(0.1)
        a.write(0, b'wake')
    pid = fork(child)
    t0 = time.monotonic()
    assert a.wait(1000, 5) is True  # freq is 1 s: only a real wake-up returns this fast
    assert time.monotonic() - t0 < 0.9
    assert a.read(0, 4) == b'wake'
    assert join(pid) == 0


def test_waiting_child_wakes_on_parent_update():
    a = new()
    r, w = os.pipe()

    def child():
        os.write(w, b'r')
        assert a.wait(1000, 10) is True
        assert a.read8(0) == 7
    pid = fork(child)
    os.read(r, 1)
    time.sleep(0.05)
    a.write8(0, 7)
    assert join(pid, 15) == 0
    os.close(r)
    os.close(w)


def test_updates_are_counted_across_processes():
    a = new()
    u = a.updates
    assert join(fork(lambda: [a.inc8(0) for _ in range(10)])) == 0
    assert a.updates == u + 10


def test_ptr_area_over_ctypes_memory():
    mem = ctypes.create_string_buffer(64)
    a = new('ptr=0x%x,size=64' % ctypes.addressof(mem))
    a.write(0, b'hello')
    assert mem.raw[:5] == b'hello'
    mem[10] = b'Z'
    assert a.read(10, 1) == b'Z'
    a.write64(16, -1)
    assert a.read64(16) == -1
    with pytest.raises(SharedAreaError, match='NULL'):
        sharedarea.add('ptr=0,size=8')


def test_buffer_area_over_array_and_memoryview():
    arr = array.array('i', [0] * 4)
    a = new(arr)
    assert a.size == 16
    a.write32(4, 77)
    assert arr[1] == 77
    assert a.object() is arr
    b = bytearray(8)
    a2 = new(memoryview(b)[2:6])
    assert a2.size == 4
    a2.write8(0, 1)
    assert b[2] == 1
    with pytest.raises(TypeError):
        sharedarea.add(memoryview(b'x'))


def test_memoryview_survives_close_without_crash():
    a = new('size=16')
    mv = a.memoryview()
    a.close()
    mv[0] = 1  # the mapping lives as long as a view of it does
    assert mv[0] == 1

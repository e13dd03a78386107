# CPython-only: areas passed to multiprocessing workers (fork, spawn, forkserver start methods) are the
# same memory, lock and counter; totals are exact. Both paths (make test-pure runs this file too).
import multiprocessing
import pickle

import pytest

import sharedarea
from sharedarea import SharedAreaError
import mp_worker

METHODS = [m for m in ('fork', 'spawn', 'forkserver') if m in multiprocessing.get_all_start_methods()]


def new(spec='pages=1'):
    return sharedarea.get(sharedarea.add(spec))


@pytest.mark.parametrize('method', METHODS)
def test_pool_tasks_on_an_anonymous_area_are_exact(method):
    a = new()
    a.write(0, b'abcd')
    with multiprocessing.get_context(method).Pool(2) as pool:
        got = pool.map(mp_worker.incs, [(a, 8, 500)] * 6)
    assert got == [b'abcd'] * 6
    assert a.read64(8) == 3000
    assert a.updates == 3001


@pytest.mark.parametrize('method', METHODS)
def test_pool_initializer_and_a_file_area_are_exact(method, tmp_path):
    a = new('file=%s,size=4096' % (tmp_path / 'area'))
    with multiprocessing.get_context(method).Pool(2, initializer=mp_worker.keep, initargs=(a,)) as pool:
        assert pool.map(mp_worker.incs_kept, [400] * 5) == [400] * 5
        assert pool.map(mp_worker.incs, [(a, 24, 300)] * 4) == [bytes(4)] * 4
    assert a.read64(16) == 2000 and a.read64(24) == 1200


def test_a_pickled_area_comes_back_as_the_same_area():
    from multiprocessing.reduction import ForkingPickler
    a = new()
    assert pickle.loads(ForkingPickler.dumps(a)) is a


def test_areas_over_this_processes_own_memory_are_not_pickled():
    a = new(bytearray(16))
    with pytest.raises(SharedAreaError) as e:
        pickle.dumps(a)
    assert 'cannot be pickled' in str(e.value)
    a.close()
    with pytest.raises(SharedAreaError):
        pickle.dumps(a)


def test_processes_at_once_on_one_area_up_to_the_compiled_limit():
    # the compiled lock has a slot per process (62); the 63rd process gets an error that says so, and the
    # pure path has no such limit. The parent and 62 forked children each make one op at once.
    import os
    import sharedarea.port_cpython as port
    from sa_proc import fork, join
    a = sharedarea.get(sharedarea.add('pages=1'))
    a.inc64(0)  # the parent's slot
    go_r, go_w = os.pipe()
    r, w = os.pipe()

    def child():
        try:
            a.inc64(0)
            os.write(w, b'+')
        except SharedAreaError as e:
            os.write(w, b'!' if 'more than 62 processes use this area' in str(e) else b'?')
        os.read(go_r, 1)  # stay alive (keeping the slot) until all have tried
    pids = [fork(child) for _ in range(62)]
    os.close(w)  # (a child that died without a word ends the reading below: EOF)
    got = b''
    while len(got) < len(pids):
        b = os.read(r, 64)
        if not b:
            break
        got += b
    os.write(go_w, b'x' * len(pids))
    assert all(join(pid, 30) == 0 for pid in pids)
    for fd in (r, go_r, go_w):
        os.close(fd)
    if port.FAST:
        assert sorted(got) == sorted(b'+' * 61 + b'!'), got
        assert a.read64(0) == 62
    else:
        assert got == b'+' * 62
        assert a.read64(0) == 63
    assert join(fork(lambda: a.inc64(0)), 30) == 0  # the slots of the children that ended are free again
    a.close()

# Portable test: threads mixing wlock read-modify-writes, rlock reads and plain ops on an area over a
# user's bytearray lose nothing (the fast path and the Python path take turns on the same lock state).
import sharedarea
from sa_testutil import need_threads, run_threads


def test_wlock_holders_and_ops_from_threads_stay_exact():
    need_threads()
    a = sharedarea.get(sharedarea.add(bytearray(64)))
    n = 2000

    def work(i):
        for k in range(n):
            if k % 7 == 0:
                with a.wlock():
                    a.write64(0, a.read64(0) + 1)  # exact only if wlock shuts every other op out
                    a.inc32(8)
            elif k % 5 == 0:
                with a.rlock():
                    a.read64(0)
            else:
                a.inc64(0)
                a.dec16(16)
                a.write8(20, k & 127)
    run_threads(4, work)
    locked = len([k for k in range(n) if k % 7 == 0])
    plain = n - locked - len([k for k in range(n) if k % 7 and k % 5 == 0])
    assert a.read64(0) == 4 * (locked + plain)
    assert a.read32(8) == 4 * locked
    assert a.read16(16) == -4 * plain

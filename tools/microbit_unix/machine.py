# A stand-in for the micro:bit's machine module on the MicroPython unix port, for the fast check of the
# micro:bit edition (run.py): mem8 through uctypes, and interrupts as a count of disable_irq() not ended.
import uctypes

off = 0  # disable_irq() calls not yet ended by enable_irq(): 0 between ops


class Mem8:
    # machine.mem8: a byte at any address
    def __getitem__(self, addr):
        return uctypes.bytearray_at(addr, 1)[0]

    def __setitem__(self, addr, value):
        uctypes.bytearray_at(addr, 1)[0] = value


mem8 = Mem8()


def disable_irq():
    global off
    off += 1
    return off


def enable_irq(state):
    # ends the innermost disable_irq(), which must be the one that returned state
    global off
    if state != off:
        raise AssertionError('enable_irq(%d) while %d disable_irq() calls are open' % (state, off))
    off -= 1

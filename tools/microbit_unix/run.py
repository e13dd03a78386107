# Runs one portable test module against the micro:bit edition on the MicroPython unix port, as the micro:bit
# runs it: one thread, no memoryview, machine from the stand-in beside this file, every part loaded up front.
#   MICROPYPATH=build/microbit:tools/microbit_unix:tests/portable:tools:.frozen micropython tools/microbit_unix/run.py test_ops
import sys

import builtins
import machine
import sa_testutil


def no_memoryview(*args):
    raise NameError("name 'memoryview' isn't defined")


sa_testutil._thread = None  # the micro:bit has one thread
builtins.memoryview = no_memoryview  # nor memoryview
import sharedarea  # noqa: E402 (the edition, from build/microbit)

assert sharedarea.PAGE_SIZE == 256 and machine.off == 0, 'not the micro:bit edition with the stand-in machine'
sharedarea.load(*sharedarea.PARTS)
import mprun  # noqa: E402

# what the edition does not promise: only its 8- and 16-bit ops are allocation-free (as on the board)
LACKS = ('test_int_ops_allocate_nothing_32_and_64_bits', 'test_int_ops_allocate_nothing_on_a_buffer_area')
mod = __import__(sys.argv[1])
for name in LACKS:
    if hasattr(mod, name):
        setattr(mod, name, lambda: sa_testutil.skip('the edition: only its 8/16-bit ops allocate nothing'))

mprun.run(sys.argv[1])
# every op that turned interrupts off turned them on again, also when it raised
print('IRQ %d' % machine.off)

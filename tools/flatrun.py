# Runs one portable test module against the flat micro:bit build (tools/flatten.py) on the MicroPython
# unix port, as the micro:bit would (one thread, every part loaded up front): a check of the build itself
# that needs no emulator. Run from the build folder with SHAREDAREA_TINY=1:
#   cd build/microbit && SHAREDAREA_TINY=1 MICROPYPATH=. micropython ../../tools/flatrun.py test_ops
import sys

here = sys.argv[0].rsplit('/', 1)[0] if '/' in sys.argv[0] else '.'
sys.path.append(here + '/../tests/portable')
sys.path.append(here)
import sa_testutil  # noqa: E402

sa_testutil._thread = None  # the flat build is the micro:bit's: one thread
import sharedarea  # noqa: E402 (the flat one, from the current folder)

assert sharedarea.PAGE_SIZE == 256, 'run with SHAREDAREA_TINY=1'  # the smallest boards' pages
sharedarea.load(*sharedarea.PARTS)
import mprun  # noqa: E402

mprun.run(sys.argv[1])

# The demo the micro:bit hex runs at boot (make microbit-hex / microbit-demo): one area, written and
# counted in, read back. Plain sharedarea code: it runs the same on any port (python tools/microbit_demo.py).
import sharedarea

sharedarea.load('ints')  # on the micro:bit a program says which parts it uses; elsewhere all are loaded
a = sharedarea.get(sharedarea.add(1))
a.write(0, b'micro:bit')
for i in range(100):
    a.inc16(16)
a.dec16(16, 58)
a.write32(20, -7)
print('sharedarea demo:', a.read(0, 9), a.read16(16), a.read32(20), a.updates)

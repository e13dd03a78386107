# The demo the micro:bit hex runs at boot (make microbit-hex / microbit-demo): one area, written and read
# back, with its update counter. Plain sharedarea code: it prints the same on any port
# (python tools/microbit_demo.py), which is how the test checks what the booted hex prints.
import sharedarea

a = sharedarea.get(sharedarea.add(1))
a.write(0, b'micro:bit')
a.write(16, bytes([42, 7]))
a.write(0, 'M')
print('sharedarea demo:', a.read(0, 9), list(a.read(16, 2)), a.read(18, 2), a.updates)

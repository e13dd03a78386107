# CPython-only: the package a user installs. A wheel built from this tree imports from any directory and
# carries the core and both ports under the one name, sharedarea.
import os
import subprocess
import sys
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_wheel_has_the_package_and_imports_from_anywhere(tmp_path):
    # as `pip install .` does it: in an isolated build environment with the build backend pyproject names
    out = subprocess.run([sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps', '-w', str(tmp_path), ROOT],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    whl = [f for f in os.listdir(tmp_path) if f.endswith('.whl')]
    assert len(whl) == 1
    names = zipfile.ZipFile(os.path.join(tmp_path, whl[0])).namelist()
    for need in ('sharedarea/__init__.py', 'sharedarea/area.py', 'sharedarea/spec.py',
                 'sharedarea/port_cpython/__init__.py', 'sharedarea/port_micropython/__init__.py'):
        assert need in names, names
    site = tmp_path / 'site'
    zipfile.ZipFile(os.path.join(tmp_path, whl[0])).extractall(site)
    code = ('import sharedarea; a = sharedarea.get(sharedarea.add("pages=1")); a.inc64(0); '
            'print(sharedarea.__file__, a.read64(0))')
    r = subprocess.run([sys.executable, '-I', '-c', 'import sys; sys.path.insert(0, %r); %s' % (str(site), code)],
                       cwd='/', capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    path, val = r.stdout.split()
    assert path.startswith(str(site)) and val == '1'


def test_mip_manifest_lists_what_a_board_gets():
    # package.json (read by `mpremote mip install`) is written by tools/mip_manifest.py: it must be current
    sys.path.insert(0, os.path.join(ROOT, 'tools'))
    import json
    import mip_manifest
    with open(os.path.join(ROOT, 'package.json')) as f:
        got = json.load(f)
    assert got == mip_manifest.manifest(mip_manifest.version()), 'run python tools/mip_manifest.py'
    for _, src in got['urls']:
        assert os.path.exists(os.path.join(ROOT, src)), src

# CPython-only: the type stub (core/__init__.pyi) that IDEs and type checkers read, checked with mypy on a
# small program typed as a user would write it, and against the names the module really has.
import ast
import os
import shutil
import subprocess
import sys

import pytest

import sharedarea

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STUB = os.path.join(ROOT, 'core', '__init__.pyi')

GOOD = '''
import sharedarea
from sharedarea import SharedArea, SharedAreaError

def total(a: SharedArea) -> int:
    with a.wlock():
        n: int = a.inc64(0) + a.read32(8)
    a.write(16, b'x')
    a.write(17, bytearray(2))
    buf = bytearray(4)
    got: int = a.readfast(0, buf)
    return n + got + a.updates + a.size

i: int = sharedarea.add('pages=1')
a = sharedarea.get(i)
ok: bool = a.wait(timeout=0.5, since=a.updates)
data: bytes = sharedarea.sharedarea_read(i, 0, 4) + a.read(0)
v: int = sharedarea.sharedarea_inclong(i, 0)
try:
    total(a)
except SharedAreaError as e:
    print(e)
print(sharedarea.__version__, sharedarea.PAGE_SIZE)
'''

BAD = '''
import sharedarea
a = sharedarea.get(sharedarea.add('pages=1'))
a.read('0')
s: str = a.inc64(0)
a.wait(since='x')
'''


def mypy(tmp_path, name, src):
    pytest.importorskip('mypy', reason='mypy is not installed (pip install mypy, or make venv)')
    pkg = tmp_path / 'stubs' / 'sharedarea'
    pkg.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(STUB, str(pkg / '__init__.pyi'))
    (pkg / 'py.typed').write_text('')
    (tmp_path / name).write_text(src)
    env = dict(os.environ, MYPYPATH=str(tmp_path / 'stubs'))
    p = subprocess.run([sys.executable, '-m', 'mypy', '--strict', '--no-incremental', '--python-version', '3.10',
                        name], cwd=str(tmp_path), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=300)
    return p.returncode, p.stdout


def test_a_typed_program_passes_mypy_strict(tmp_path):
    code, out = mypy(tmp_path, 'good.py', GOOD)
    assert code == 0, out


def test_mypy_catches_wrong_types_through_the_stub(tmp_path):
    code, out = mypy(tmp_path, 'bad.py', BAD)
    assert code == 1
    lines = [ln for ln in out.splitlines() if ': error:' in ln]
    assert [ln.split(':')[1] for ln in lines] == ['4', '5', '6'], out


def stub_names():
    tree = ast.parse(open(STUB).read())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def test_the_stub_names_what_the_module_has():
    names = stub_names()
    # the uWSGI functions and the main API of the module are all in the stub
    public = set(n for n in dir(sharedarea) if n.startswith('sharedarea_')) | {
        'add', 'get', 'close', 'load', 'PAGE_SIZE', 'SharedArea', 'SharedAreaError', '__version__'}
    assert public <= names, sorted(public - names)
    # and nothing in the stub's module level is made up
    for n in names - {'Spec', '_Held', '_Buffer', 'PARTS'}:
        assert hasattr(sharedarea, n), n

# Lays out the sharedarea package for a MicroPython runtime (unix port or a board) in one folder:
# DEST/sharedarea/{__init__,area,spec}.py and DEST/sharedarea/port_micropython/__init__.py; with web=True
# also DEST/microdot/ (the four files the web half needs, copied from the microdot wheel installed here).
import os
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PARTS = (('core', 'sharedarea'), ('port_micropython', 'sharedarea/port_micropython'))
CPYTHON_ONLY = ('__main__.py',)  # python -m sharedarea (the command line, in port_cpython): never on a board


def files():
    # (source path, path in the package) for every module a MicroPython device needs
    out = []
    for src, dst in PARTS:
        for name in sorted(os.listdir(os.path.join(ROOT, src))):
            if name.endswith('.py') and name not in CPYTHON_ONLY:
                out.append((os.path.join(ROOT, src, name), dst + '/' + name))
    return out


MICRODOT = ('__init__.py', 'microdot.py', 'websocket.py', 'helpers.py')


def microdot_files():
    # (source path, path on the board) of microdot from the installed wheel (pip install microdot)
    import importlib.util
    spec = importlib.util.find_spec('microdot')
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit('microdot is not installed here: pip install microdot (or make venv)')
    d = list(spec.submodule_search_locations)[0]
    return [(os.path.join(d, name), 'microdot/' + name) for name in MICRODOT]


def stage(dest, web=False):
    for name in ('sharedarea',) + (('microdot',) if web else ()):
        if os.path.isdir(os.path.join(dest, name)):
            shutil.rmtree(os.path.join(dest, name))
    for src, rel in files() + (microdot_files() if web else []):
        os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
        shutil.copyfile(src, os.path.join(dest, rel))
    return dest


if __name__ == '__main__':
    args = [a for a in sys.argv[1:] if a != '--web']
    print(stage(args[0] if args else os.path.join(ROOT, 'build', 'mp'), web='--web' in sys.argv))

# Lays out the sharedarea package for a MicroPython runtime (unix port or a board) in one folder:
# DEST/sharedarea/{__init__,area,spec}.py and DEST/sharedarea/port_micropython/__init__.py.
import os
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PARTS = (('core', 'sharedarea'), ('port_micropython', 'sharedarea/port_micropython'))
CPYTHON_ONLY = ('cli.py', '__main__.py')  # the command line (argparse, /proc): never on a board


def files():
    # (source path, path in the package) for every module a MicroPython device needs
    out = []
    for src, dst in PARTS:
        for name in sorted(os.listdir(os.path.join(ROOT, src))):
            if name.endswith('.py') and name not in CPYTHON_ONLY:
                out.append((os.path.join(ROOT, src, name), dst + '/' + name))
    return out


def stage(dest):
    pkg = os.path.join(dest, 'sharedarea')
    if os.path.isdir(pkg):
        shutil.rmtree(pkg)
    for src, rel in files():
        os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
        shutil.copyfile(src, os.path.join(dest, rel))
    return dest


if __name__ == '__main__':
    print(stage(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, 'build', 'mp')))

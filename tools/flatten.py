# Builds flat modules for boards whose filesystem has no folders (the micro:bit) from the package sources:
# core/x.py -> sa_x.py, the MicroPython port -> sa_port.py, imports rewritten, comments and blank lines dropped.
import io
import os
import re
import sys
import tokenize

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# package module -> flat module name (None: not shipped, as the micro:bit has no _thread; its import
# becomes an ImportError)
NAMES = {'area': 'sa_area', 'ops': 'sa_ops', 'opsix': 'sa_opsix', 'spec': 'sa_spec', 'more': 'sa_more', 'errs': 'sa_errs', 'extra': 'sa_extra', 'funcs': 'sa_funcs',
         'port_micropython': 'sa_port', 'base': 'sa_base', 'irq': 'sa_irq', 'bufs': 'sa_bufs', 'mem8': 'sa_mem8',
         'port_cpython': None, 'threads': None}
# (source relative to ROOT, flat name, flat name of its package for "from . import x") for every module
# a board needs, in the order they are sent
SOURCES = (('core/__init__.py', 'sharedarea', 'sharedarea'), ('core/opsix.py', 'sa_opsix', 'sharedarea'),
           ('core/area.py', 'sa_area', 'sharedarea'),
           ('core/spec.py', 'sa_spec', 'sharedarea'), ('core/more.py', 'sa_more', 'sharedarea'),
           ('core/errs.py', 'sa_errs', 'sharedarea'), ('core/extra.py', 'sa_extra', 'sharedarea'),
           ('core/funcs.py', 'sa_funcs', 'sharedarea'), ('port_micropython/__init__.py', 'sa_port', 'sa_port'),
           ('port_micropython/base.py', 'sa_base', 'sa_port'), ('port_micropython/irq.py', 'sa_irq', 'sa_port'), ('port_micropython/mem8.py', 'sa_mem8', 'sa_port'),
           ('port_micropython/bufs.py', 'sa_bufs', 'sa_port'))


def strip(src):
    # rewrites the source from its tokens: no comments, docstrings or blank lines, one space of indent per
    # level, spaces only where two words meet (the board's filesystem holds about 15 KB in all)
    out, line, depth, prev = [], [], 0, None
    words = (tokenize.NAME, tokenize.NUMBER, tokenize.STRING)
    for t in tokenize.generate_tokens(io.StringIO(src).readline):
        if t.type == tokenize.INDENT:
            depth += 1
        elif t.type == tokenize.DEDENT:
            depth -= 1
        elif t.type == tokenize.NEWLINE:
            text = ''.join(line)
            if not (len(line) == 1 and prev.type == tokenize.STRING):  # a docstring alone on its line
                out.append(' ' * depth + text)
            line, prev = [], None
        elif t.type in words or t.type == tokenize.OP:
            if prev is not None and prev.type in words and t.type in words:
                line.append(' ')
            line.append(t.string)
            prev = t
    return '\n'.join(out) + '\n'


def _imp(m, pkg):
    # "from .x import a" / "from ..x import a" / "from . import x [as y]" / "from . import name"
    ind, mod, rest = m.group(1), m.group(3), m.group(4)
    if mod:
        name = mod.split('.')[-1]
        if NAMES[name] is None:
            return "%sraise ImportError('%s is not on this board')" % (ind, name)
        return '%sfrom %s import %s' % (ind, NAMES[name], rest)
    name, _, alias = rest.partition(' as ')
    name = name.strip()
    if name not in NAMES:
        return '%sfrom %s import %s' % (ind, pkg, rest)  # a name from the package itself
    if NAMES[name] is None:
        return "%sraise ImportError('%s is not on this board')" % (ind, name)
    return '%simport %s as %s' % (ind, NAMES[name], alias.strip() or name)


def flatten(src, pkg='sharedarea'):
    out = re.sub(r'(?m)^(\s*)from (\.+)([\w.]*) import (.*)$', lambda m: _imp(m, pkg), src)
    out = strip(out)
    compile(out, '<flat>', 'exec')  # a rewrite that breaks the syntax fails here, not on the board
    return out


# The micro:bit's C stack (1.8 KB) overflows when a module is compiled three imports deep
# (sharedarea -> sa_area -> sa_opsix), so the flat sharedarea loads its pieces first, each one import deep.
PRELOAD = 'import sa_opsix,sa_area,sa_irq\ndel sa_opsix,sa_area,sa_irq\n'


def build(dest=None):
    # writes DEST/<flat>.py for every module; returns [(flat name, path)]
    dest = dest or os.path.join(ROOT, 'build', 'microbit')
    os.makedirs(dest, exist_ok=True)
    made = []
    for rel, flat, pkg in SOURCES:
        with open(os.path.join(ROOT, rel)) as f:
            text = flatten(f.read(), pkg)
        if flat == 'sharedarea':
            text = PRELOAD + text
        path = os.path.join(dest, flat + '.py')
        with open(path, 'w') as f:
            f.write(text)
        made.append((flat, path))
    return made


if __name__ == '__main__':
    for flat, path in build(sys.argv[1] if len(sys.argv) > 1 else None):
        print('%-12s %5d bytes  %s' % (flat, os.path.getsize(path), path))

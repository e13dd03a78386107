# Builds flat modules for boards whose filesystem has no folders (the micro:bit) from the package sources:
# core/x.py -> sa_x.py, the MicroPython port -> sa_port.py, imports rewritten, comments and blank lines dropped.
import ast
import io
import os
import re
import shutil
import sys
import tokenize

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# package module -> flat module name (None: not shipped to the micro:bit, which has no _thread and no
# sys.modules; importing it there raises ImportError)
NAMES = {'area': 'sa_area', 'errors': 'sa_errors', 'more': 'sa_more', 'extra': 'sa_extra', 'locks': 'sa_locks', 'spec': 'sa_spec', 'names': 'sa_names',
         'port_micropython': 'sa_port', 'fixed': 'sa_fixed', 'one': 'sa_one', 'port_cpython': None, 'threads': None, 'uwsgi': None}
# the modules the flat sharedarea imports at import time on the micro:bit, in that order
AT_IMPORT = ('sa_area', 'sa_port')
# (source relative to ROOT, flat name, flat name of its package for "from . import x") for every module
# a board needs, in the order they are sent
SOURCES = (('core/__init__.py', 'sharedarea', 'sharedarea'), ('core/area.py', 'sa_area', 'sharedarea'),
           ('core/errors.py', 'sa_errors', 'sharedarea'),
           ('core/more.py', 'sa_more', 'sharedarea'), ('core/locks.py', 'sa_locks', 'sharedarea'),
           ('core/extra.py', 'sa_extra', 'sharedarea'), ('core/spec.py', 'sa_spec', 'sharedarea'),
           ('core/names.py', 'sa_names', 'sharedarea'), ('port_micropython/__init__.py', 'sa_port', 'sa_port'),
           ('port_micropython/one.py', 'sa_one', 'sa_port'), ('port_micropython/fixed.py', 'sa_fixed', 'sa_port'))


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


# The micro:bit compiles a module in one go, needing about three times its source in heap at once; a
# module bigger than LIMIT bytes (stripped) goes to the board as pieces NAME.0, NAME.1, ... of whole
# top-level statements (a big class gives up its methods to later pieces, which put them back on it),
# and NAME.py is a stub that runs the pieces one by one in its own namespace (STUB).
LIMIT = 500
# How a module in pieces gets loaded: NAME.py is a stub holding only its namespace (G), and the pieces
# are run into it by RUN, from the flat sharedarea (depth 1) for the modules it needs at import, or by
# the stub itself for modules loaded later. A loader function or a stub that runs its own pieces under
# sharedarea would be one level deeper, and the board's C stack (1.8 KB) allows two imports deep, not three.
STUB = 'G=globals()\n'
RUN = """import gc,micropython
micropython.opt_level(3)
for _m_,_g_ in %s:
 _i_=0
 while 1:
  try:
   _f_=open('%%s.%%d'%%(_m_,_i_))
  except OSError:
   break
  _s_=_f_.read()
  _f_.close()
  exec(_s_,_g_)
  _i_+=1
  del _s_
  gc.collect()
del _m_,_g_,_i_,_f_
"""


def _units(src):
    # the module's top-level statements as source texts; a class too big for one piece is cut into the
    # class (as many of its first statements as fit) and one unit per further method: the def, then
    # "Class.name=name" and "del name"
    lines = src.splitlines(True)
    out = []
    for node in ast.parse(src).body:
        text = ''.join(lines[node.lineno - 1:node.end_lineno])
        if not isinstance(node, ast.ClassDef) or len(text) <= LIMIT:
            out.append(text)
            continue
        head = ''.join(lines[node.lineno - 1:node.body[0].lineno - 1])
        rest = []
        for item in node.body:
            part = ''.join(lines[item.lineno - 1:item.end_lineno])
            if not rest and (len(head) + len(part) <= LIMIT or not isinstance(item, ast.FunctionDef)):
                head += part
            elif isinstance(item, ast.FunctionDef):
                fn = ''.join(ln[1:] for ln in part.splitlines(True))  # stripped: one space per level
                rest.append(fn + '%s.%s=%s\ndel %s\n' % (node.name, item.name, item.name, item.name))
            else:
                raise ValueError('%s: a class statement after a moved method cannot be split' % node.name)
        out.append(head)
        out.extend(rest)
    return out


def pieces(src):
    # whole units, packed greedily into pieces of at most LIMIT bytes (a unit bigger than that alone)
    out = []
    for u in _units(src):
        if out and len(out[-1]) + len(u) <= LIMIT:
            out[-1] += u
        else:
            out.append(u)
    return out


def build(dest=None):
    # writes DEST/<flat>.py (and its pieces) for every module; returns [(file name, path)]
    dest = dest or os.path.join(ROOT, 'build', 'microbit')
    if os.path.isdir(dest):
        shutil.rmtree(dest)
    os.makedirs(dest)
    made = []

    def put(name, text):
        path = os.path.join(dest, name)
        with open(path, 'w') as f:
            f.write(text)
        made.append((name, path))
    split = []
    for rel, flat, pkg in SOURCES:
        with open(os.path.join(ROOT, rel)) as f:
            text = flatten(f.read(), pkg)
        # only what sharedarea loads at import is cut into pieces: a module loaded later, from inside a
        # call, compiles whole (running pieces from there nests too deep for the C stack)
        ps = pieces(text) if flat in AT_IMPORT + ('sharedarea',) else [text]
        if len(ps) == 1:
            put(flat + '.py', text)
            continue
        for i, p in enumerate(ps):
            compile(p, '%s.%d' % (flat, i), 'exec')
            put('%s.%d' % (flat, i), p)
        split.append(flat)
        if flat != 'sharedarea':
            put(flat + '.py', STUB)
    # sharedarea's own pieces come last; the modules it imports at import time first, in that order
    run = ''.join("('%s',__import__('%s').G)," % (m, m) for m in AT_IMPORT if m in split)
    put('sharedarea.py', STUB + RUN % ('(' + run + "('sharedarea',G))"))
    return made


if __name__ == '__main__':
    for name, path in build(sys.argv[1] if len(sys.argv) > 1 else None):
        print('%-14s %5d bytes  %s' % (name, os.path.getsize(path), path))

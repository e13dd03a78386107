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
        return '%s%sfrom %s import %s' % (ind, _ld(ind, NAMES[name]), NAMES[name], rest)
    name, _, alias = rest.partition(' as ')
    name = name.strip()
    if name not in NAMES:
        return '%sfrom %s import %s' % (ind, pkg, rest)  # a name from the package itself
    if NAMES[name] is None:
        return "%sraise ImportError('%s is not on this board')" % (ind, name)
    return '%s%simport %s as %s' % (ind, _ld(ind, NAMES[name]), NAMES[name], alias.strip() or name)


def _ld(ind, flat):
    # an import inside a function (a module loaded on first use) runs its pieces first, through _ld;
    # one at module level finds its module loaded already (sharedarea loads those first)
    return "_ld('%s')\n%s" % (flat, ind) if ind else ''



def flatten(src, pkg='sharedarea'):
    out = re.sub(r'(?m)^([ \t]*)from (\.+)([\w.]*) import (.*)$', lambda m: _imp(m, pkg), src)
    out = strip(out)
    compile(out, '<flat>', 'exec')  # a rewrite that breaks the syntax fails here, not on the board
    return out


# The micro:bit compiles a module in one go, needing about three times its source in heap at once; a
# module bigger than LIMIT bytes (stripped) goes to the board as pieces NAME.0, NAME.1, ... of whole
# top-level statements (a big class gives up its methods to later pieces, which put them back on it).
LIMIT = 500
# How the board loads a module: NAME.py starts with STUB, which gives it its namespace (G); the rest of
# the file is one comment line the compiler skips: the pieces' lengths, then the pieces themselves (their
# newlines stored as \x01). _ld(NAME) (defined in the flat sharedarea.py and given to every module) runs
# the pieces into G, once, with a collection in between. sharedarea.py loads what it needs at import that
# way; a module used later is loaded by the function that first needs it. Plain imports of whole modules
# would compile too much at once and nest too deep for the board's C stack (1.8 KB: two imports deep,
# not three); one file per module because every file takes at least a 128-byte flash chunk.
STUB = 'G=globals()\n#'
_BODY = """ if '_ok' in g:
  %(x)s
 g['_ld']=_ld
 f=open(m+'.py')
 f.read(13)
 h=''
 while h[-1:]!='\\x01':
  h+=f.read(1)
 for n in h[:-1].split():
  s=f.read(int(n)).replace('\\x01','\\n')
  exec(s,g)
  del s
  gc.collect()
 f.close()
 g['_ok']=1
"""
# _ld for modules loaded later, and the same loop written out at module level for what sharedarea loads
# at import (inside a function, that would be one level too deep there)
LOADER = ("G=globals()\nimport gc\ndef _ld(m,g=None):\n g=g or __import__(m).G\n" + _BODY % {'x': 'return'} +
          "for m,g in %s:\n" + '\n'.join(' ' + ln for ln in (_BODY % {'x': 'continue'}).splitlines()) +
          "\ndel m,g,h,f,n\n")


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
        if name.endswith('.py'):
            compile(text, name, 'exec')
        path = os.path.join(dest, name)
        with open(path, 'w') as f:
            f.write(text)
        made.append((name, path))
    for rel, flat, pkg in SOURCES:
        with open(os.path.join(ROOT, rel)) as f:
            text = flatten(f.read(), pkg)
        ps = pieces(text)
        for p in ps:
            compile(p, flat, 'exec')
            assert '\x01' not in p
        data = ' '.join(str(len(p)) for p in ps) + '\x01' + ''.join(ps).replace('\n', '\x01') + '\n'
        # sharedarea's own pieces go in sa_init.py, run into sharedarea's namespace
        put(('sa_init' if flat == 'sharedarea' else flat) + '.py', STUB + data)
    # sharedarea's own pieces come last; the modules it imports at import time first, in that order
    put('sharedarea.py', LOADER % ('(' + ''.join("('%s',__import__('%s').G)," % (m, m) for m in AT_IMPORT)
                                   + "('sa_init',G))"))
    return made


if __name__ == '__main__':
    for name, path in build(sys.argv[1] if len(sys.argv) > 1 else None):
        print('%-14s %5d bytes  %s' % (name, os.path.getsize(path), path))

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
# package module -> its part name on the board, where it is the file sa_NAME (None: not shipped to the
# micro:bit, which has no _thread and no sys.modules; importing it there raises ImportError)
NAMES = {'area': 'area', 'errors': 'errors', 'ints': 'ints', 'locks': 'locks', 'extra': 'extra', 'spec': 'spec',
         'names': 'names', 'port_micropython': 'port', 'one': 'one', 'fixed': 'fixed',
         'port_cpython': None, 'threads': None, 'uwsgi': None, 'full': None, 'aio': None, 'ws': None}
# what the flat sharedarea loads at import, in that order (then its own part, init)
AT_IMPORT = ('area', 'port')
# (source relative to ROOT, its part name, the part name of its package for "from . import x")
SOURCES = (('core/__init__.py', 'init', 'init'), ('core/area.py', 'area', 'init'),
           ('core/errors.py', 'errors', 'init'), ('core/ints.py', 'ints', 'init'),
           ('core/locks.py', 'locks', 'init'), ('core/extra.py', 'extra', 'init'), ('core/spec.py', 'spec', 'init'),
           ('core/names.py', 'names', 'init'), ('port_micropython/__init__.py', 'port', 'port'),
           ('port_micropython/one.py', 'one', 'port'), ('port_micropython/fixed.py', 'fixed', 'port'))


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


def _names(fn):
    # (names a function unit binds that are free to rename, names that must stay) of a top-level def or
    # method and the functions inside it: locals, and the parameters no caller can name (self; those
    # of a private function); every other parameter stays, as callers may pass it by keyword
    local, keep = set(), set()
    for node in ast.walk(fn):
        if isinstance(node, (ast.FunctionDef, ast.Lambda)):
            args = node.args
            ps = [x.arg for x in args.args + args.kwonlyargs + [args.vararg, args.kwarg] if x]
            private = isinstance(node, ast.FunctionDef) and node.name.startswith('_') and node.name[:2] != '__'
            for x in ps:
                (local if x == 'self' or private else keep).add(x)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            local.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom, ast.Global, ast.Nonlocal)):
            keep.update(a.asname or a.name for a in getattr(node, 'names', []) if not isinstance(a, str))
            keep.update(a for a in getattr(node, 'names', []) if isinstance(a, str))
    return local - keep, keep


# one-letter names, those the micro:bit's firmware has in its table of names (no heap) first
LETTERS = 'abcdefgnr' + 'hijklmopqstuvwxyz'


def minify(src):
    # gives the locals of every function (see _names) one-letter names, unit by unit: the board's
    # filesystem holds about 15 KB, and each byte of source costs about one of heap there too
    tree = ast.parse(src)
    units = []
    for node in tree.body:
        for fn in ([node] if isinstance(node, ast.FunctionDef) else
                   [m for m in node.body if isinstance(m, ast.FunctionDef)] if isinstance(node, ast.ClassDef) else []):
            units.append((fn.lineno, fn.end_lineno, fn))
    toks = list(tokenize.generate_tokens(io.StringIO(src).readline))
    lines = src.splitlines(True)
    out = list(lines)
    for first, last, fn in units:
        local, keep = _names(fn)
        used = {t.string for t in toks if t.type == tokenize.NAME and first <= t.start[0] <= last} - local
        free = [c for c in LETTERS if c not in used]
        names = sorted(local)
        rename = dict(zip(names, free))
        if not rename:
            continue
        # rewrite the unit's lines token by token (columns shift as names shrink)
        edits = {}
        sig = depth = 0
        prev = None
        for i, t in enumerate(toks):
            if not first <= t.start[0] <= last:
                continue
            if t.type == tokenize.NAME and t.string in ('def', 'lambda'):
                sig = 1
            elif t.type == tokenize.OP and t.string in '([{':
                depth += 1
            elif t.type == tokenize.OP and t.string in ')]}':
                depth -= 1
            elif t.type == tokenize.OP and t.string == ':' and sig and depth == 0:
                sig = 0
            if t.type == tokenize.NAME and t.string in rename and not (prev and prev.string == '.'):
                nxt = toks[i + 1]
                keyword = nxt.string == '=' and depth > 0 and not sig and prev.string in ('(', ',')
                own = prev.string == 'def' and t.start[0] == first  # the unit's own name is not its local
                if not keyword and not own:
                    edits.setdefault(t.start[0], []).append((t.start[1], t.end[1], rename[t.string]))
            prev = t
        for ln, es in edits.items():
            text = out[ln - 1]
            for c0, c1, new in sorted(es, reverse=True):
                text = text[:c0] + new + text[c1:]
            out[ln - 1] = text
    return ''.join(out)


def _imp(m, pkg, shared=False):
    # a relative import -> the same names taken from _ld(flat module name), a namespace
    ind, mod, rest = m.group(1), m.group(3), m.group(4)
    pairs = [(n.strip(), (a or n).strip()) for n, _, a in (x.partition(' as ') for x in rest.split(','))]
    if mod:  # from .x import a, b as c
        flat = NAMES[mod.split('.')[-1]]
        if flat is None:
            return '%sraise ImportError' % ind  # never runs on the board
        if shared and flat in AT_IMPORT and not ind and all(n == a for n, a in pairs):
            return ''  # at the top of a module in sharedarea's namespace, from one there: the names are there
        # (from a module of the import: its namespace is there already, and a lookup is no call, so
        # it costs no C stack in a part loaded from inside calls)
        get = ('_NS[%r]' if flat in AT_IMPORT else '_ld(%r)') % flat
        return ind + '_m_=%s\n' % get + ''.join('%s%s=_m_.%s\n' % (ind, a, n) for n, a in pairs).rstrip()
    out = []
    for n, a in pairs:  # from . import module [as y] / from . import name_of_the_package
        if n in NAMES:
            if NAMES[n] is None:
                out.append('%sraise ImportError' % ind)
            else:
                out.append(('%s%s=_NS[%r]' if NAMES[n] in AT_IMPORT else '%s%s=_ld(%r)') % (ind, a, NAMES[n]))
        else:
            out.append(('%s%s=_NS[%r].%s' if pkg in AT_IMPORT else '%s%s=_ld(%r).%s') % (ind, a, pkg, n))
    return '\n'.join(out)


# tests whose value on the micro:bit is known: their if-statements keep only the branch it takes
KNOWN = {"sys.implementation.name == 'micropython'": True, "sys.implementation.name != 'micropython'": False,
         'not _port.TINY': False,
         "hasattr(_port, 'on_load')": True,
         # write() of another buffer type: extra's _flat gives it back as it is where there is no memoryview
         'type(data) is not bytes and type(data) is not bytearray': False}
# values known on the micro:bit, put in place of the expression assigned (the flat build is its build);
# and attributes known there: every area goes byte by byte (TINY), so the slice and struct paths go
VALUES = {'TINY': True}
LEFT_OUT = ('__version__',)  # package metadata: one more global grows the module's dict, heap the board lacks
ATTRS = {'_ix': True, 'REGISTRY_LOCK': None, 'bind': None}  # (and no threads, no compiled ops)
# tables of messages (a dict of strings at module level, looked up as NAME[key]): on the board they stay
# in a data file sa_FILE, a line "key<tab>message" each, and NAME becomes a function that reads the one
# asked for (NAME(key)), so they take no heap until an error is raised
TABLES = {'_MSG': 'msg'}
_READER = """def %s(k):
    f = open('sa_%s')
    while 1:
        l = f.readline()
        if not l or l[:len(k) + 1] == k + '\\t':
            break
    f.close()
    return l[len(k) + 1:-1]
"""


class _Known(ast.NodeTransformer):
    def __init__(self, tables=None):
        self.tables = {} if tables is None else tables  # TABLES found: {file: {key: message}}

    def visit_Subscript(self, node):
        self.generic_visit(node)
        if isinstance(node.value, ast.Name) and node.value.id in TABLES:
            return ast.Call(node.value, [node.slice], [])
        return node

    def visit_If(self, node):
        self.generic_visit(node)
        if isinstance(node.test, ast.Constant):
            v = bool(node.test.value)
        else:
            v = KNOWN.get(ast.unparse(node.test))
            if v is None:
                return node
        return (node.body if v else node.orelse) or ast.Pass()

    def visit_Assign(self, node):
        self.generic_visit(node)
        t = node.targets[0]
        if len(node.targets) == 1 and isinstance(t, ast.Name) and t.id in TABLES and isinstance(node.value, ast.Dict):
            table = {ast.literal_eval(k): ast.literal_eval(v) for k, v in zip(node.value.keys, node.value.values)}
            assert all(isinstance(v, str) and '\n' not in v and '\t' not in v for v in table.values())
            self.tables[TABLES[t.id]] = table
            return ast.parse(_READER % (t.id, TABLES[t.id])).body[0]
        if len(node.targets) == 1 and isinstance(t, ast.Name) and t.id in VALUES:
            node.value = ast.Constant(VALUES[t.id])
        if len(node.targets) == 1 and isinstance(t, ast.Name) and t.id in LEFT_OUT:
            return None
        return node

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load) and node.id in VALUES:
            return ast.Constant(VALUES[node.id])
        return node

    def visit_Attribute(self, node):
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load) and node.attr in ATTRS:
            return ast.Constant(ATTRS[node.attr])
        return node

    def visit_BoolOp(self, node):
        # x or True, with x a comparison (no side effect): True
        self.generic_visit(node)
        if (isinstance(node.op, ast.Or) and any(isinstance(v, ast.Constant) and v.value is True for v in node.values)
                and all(isinstance(v, (ast.Compare, ast.Constant)) for v in node.values)):
            return ast.Constant(True)
        return node

    def visit_IfExp(self, node):
        self.generic_visit(node)
        if isinstance(node.test, ast.Constant):
            return node.body if node.test.value else node.orelse
        return node

    def visit_Module(self, node):
        # then drops the module-level imports (and try: from x import y / except: y = None) of names that
        # nothing uses any more
        self.generic_visit(node)
        used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        used |= {n.value.id for n in ast.walk(node) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)}

        def unused(st):
            if isinstance(st, ast.Try) and len(st.body) == 1:
                st = st.body[0]
            return (isinstance(st, (ast.Import, ast.ImportFrom)) and not getattr(st, 'level', 0) and
                    not any((a.asname or a.name).split('.')[0] in used for a in st.names))
        node.body = [st for st in node.body if not unused(st)]
        return node

    def visit_Try(self, node):
        # a try whose body imports a module the board does not get fails there: its handler runs; and a
        # try with nothing left to do finally (and no handler) is its body
        self.generic_visit(node)
        if not node.handlers and all(isinstance(st, ast.Pass) for st in node.finalbody):
            return node.body
        for st in node.body:
            if isinstance(st, ast.ImportFrom) and st.level and NAMES.get((st.module or '').split('.')[-1], 0) is None:
                return node.handlers[0].body
        return node


def flatten(src, pkg='init', shared=False, tables=None):
    # shared: the module runs in sharedarea's own namespace (AT_IMPORT and init); tables: a dict that
    # gets the TABLES found ({file: {key: message}})
    # sharedarea.load() imports a part by name; on the board a part is loaded by _ld
    src = src.replace("getattr(__import__(__name__ + '.' + p), p)", "_ld(p)")
    tree = _Known(tables).visit(ast.parse(src))
    for node in ast.walk(tree):  # the pass statements folding left beside others
        for field in ('body', 'orelse', 'finalbody'):
            block = getattr(node, field, None)
            if isinstance(block, list) and (len(block) > 1 or field == 'orelse'):
                setattr(node, field, [st for st in block if not isinstance(st, ast.Pass)] or block[:field != 'orelse'])
    src = ast.unparse(tree)
    out = re.sub(r'(?m)^([ \t]*)from (\.+)([\w.]*) import (.*)$', lambda m: _imp(m, pkg, shared), src)
    out = minify(strip(out))
    compile(out, '<flat>', 'exec')  # a rewrite that breaks the syntax fails here, not on the board
    return out


# Every name the board meets that is not in its firmware's table of names (its ROM qstrs) is copied to
# the heap and kept for ever: about 12 bytes a name, over 1 KB for the import alone. So the names no user
# sees (private globals and attributes, the port's sync protocol, the keys errors.py is called with)
# become names that table already has, ones no source here uses for anything else (so nothing can clash
# in any scope). They are renamed everywhere at once: as names, attributes, keyword arguments, and as
# whole strings (getattr/setattr lists, error keys). ROM: names of the micro:bit firmware's table
# (measured: after a soft reset, micropython.qstr_info(1) lists none of them once used).
INTERNAL = ('INTS', 'METHODS', 'Mem', 'One', 'REGISTRY_LOCK', 'TINY', '_BUFS', '_FMT', '_KEYS', '_MSG',
            '_areas', '_b', '_chk', '_fit', '_flat', '_fn', '_get', '_lock', '_m_', '_make', '_mem', '_n',
            '_num', '_op', '_port', '_rd', '_s', '_view', '_wd', '_ix', 'At', 'anon', 'bind', 'bump',
            'done', 'ix', 'obj', 'sync', 'wrap', 'rl', 'wl', 'make', 'memory', 'mem', 'part', 'parts',
            'chk', 'unloaded', 'rlocked', 'closed', 'exc', 'empty', 'buffer', 'on_load', 'w', 'overflow',
            'numbers', 'noview', 'noobject', '_rules', 'nommap', 'null', 'first', 'which', 'other', 'fail', '_INTS')
ROM = ('tx', 'rx', 'on', 'off', 'pin', 'spi', 'i2c', 'ODD', 'uart', 'show', 'seed', 'bits', 'love', 'this',
       'EVEN', 'play', 'rfind', 'panic', 'pitch', 'power', 'queue', 'image', 'group', 'get_x', 'get_y', 'get_z',
       'config', 'scroll', 'parity', 'choice', 'rindex', 'display', 'channel', 'compass', 'readall', 'uniform',
       'receive', 'popitem', 'button_a', 'button_b', 'baudrate', 'fromkeys', 'sleep_us', 'ticks_us', 'ticks_add',
       'data_rate', 'frequency', 'set_pixel', 'get_pixel', 'send_bytes', 'is_pressed', 'is_touched',
       'ALL_CLOCKS', 'RATE_1MBIT', 'get_presses', 'was_pressed', 'temperature', 'getrandbits', 'RATE_2MBIT',
       'read_analog', 'running_time', 'read_digital', 'write_analog', 'RATE_250KBIT', 'receive_bytes',
       'receive_full', 'write_digital', 'set_analog_period')


def _words(src):
    # every name and every string that is a whole identifier in src, as often as it occurs
    out = []
    for t in tokenize.generate_tokens(io.StringIO(src).readline):
        if t.type == tokenize.NAME:
            out.append(t.string)
        elif t.type == tokenize.STRING and re.fullmatch(r"'\w+'", t.string):
            out.append(t.string[1:-1])
    return out


def unused(texts):
    # the texts less their private (or INTERNAL) top-level functions and names that no text uses (any
    # more: folding the board's known values leaves some, as extra's _flat or TINY, behind)
    words = [w for t in texts for w in _words(t)]
    out = []
    for text in texts:
        tree = ast.parse(text)
        lines = text.splitlines(True)
        drop = set()
        for node in tree.body:
            name = (node.name if isinstance(node, ast.FunctionDef) else node.targets[0].id
                    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                    else None)
            if name and (name[:1] == '_' and name[:2] != '__' or name in INTERNAL) and words.count(name) == 1:
                drop.update(range(node.lineno - 1, node.end_lineno))
        out.append(''.join(ln for i, ln in enumerate(lines) if i not in drop))
    return out


def renames(texts):
    # {internal name: ROM name} for the flat sources texts: each ROM name used at most once, and only
    # one that none of them uses; the shortest for the names used most
    used = [w for t in texts for w in _words(t)]
    free = sorted((n for n in ROM if n not in used), key=len)
    names = sorted((n for n in INTERNAL if n in used), key=lambda n: -used.count(n))
    if len(free) < len(names):
        raise ValueError('flatten: more internal names than free ROM names')
    return dict(zip(names, free))


def rename(src, table):
    # src with the names of table renamed: as names (attributes and keywords too) and as whole strings
    edits = []
    for t in tokenize.generate_tokens(io.StringIO(src).readline):
        if t.type == tokenize.NAME and t.string in table:
            edits.append((t.start, t.end, table[t.string]))
        elif t.type == tokenize.STRING and re.fullmatch(r"'\w+'", t.string) and t.string[1:-1] in table:
            edits.append((t.start, t.end, "'%s'" % table[t.string[1:-1]]))
    lines = src.splitlines(True)
    for (l0, c0), (l1, c1), new in sorted(edits, reverse=True):
        assert l0 == l1
        lines[l0 - 1] = lines[l0 - 1][:c0] + new + lines[l0 - 1][c1:]
    return ''.join(lines)


# The micro:bit compiles a module in one go, needing about three times its source in heap at once, so
# a module goes to the board as pieces of at most LIMIT bytes (stripped) of whole top-level statements
# (a big class gives up its methods to later pieces, which put them back on it).
LIMIT = 500
LATER = 250  # the limit for parts loaded after the import, into a heap that is already cut up
# How the board loads a module: each is a data file (no .py) holding its pieces, each after its length
# in 4 digits. _ld(NAME) runs them, once, into a fresh namespace (a dict, made a class so that code
# can say ns.name), with a collection after each, and keeps it; the flat imports above call it. Only
# sharedarea.py is a Python module: it defines _ld, loads what sharedarea needs at import by the same
# loop written out at module level (inside a function that would be one level too deep for the board's
# 1.8 KB C stack), then runs sharedarea's own pieces into its own namespace. Plain imports of whole modules
# would compile too much at once and nest too deep; no stub modules, as every file takes at least a
# 128-byte chunk of the board's ~14 KB filesystem.
_BODY = """ %(g)s
 f=open('sa_'+%(m)s)
 while 1:
  n=f.read(4)
  if not n:
   break
  b=f.read(int(n))
  exec(b,g)
  del b
  gc.collect()
 f.close()
"""
# At import: the parts area and port and then sharedarea's own code (init) all run in sharedarea's own
# namespace (on the board a namespace costs a dict, a class over it and the lines that copy names from
# one to the other: a few hundred bytes), and _ld gives one class over it for all three. (The loader's
# names are one letter, those in the firmware's table of names: a, b, c, f, g, n.)
LD = ("import gc\n_NS={}\ndef _ld(a):\n if a in _NS:\n  return _NS[a]\n" +
      _BODY % {'g': "g={'_ld':_ld,'_NS':_NS}", 'm': 'a'} + " c=_NS[a]=type(a,(),g)\n return c\n"
      "g=globals()\nc=type('sharedarea',(),g)\n")
LOOP = "for a in %s:\n  _NS[a]=c\n" + (' ' + _BODY.replace(' %(g)s\n', '', 1)).replace('\n ', '\n  ') % {'m': 'a'}
LOADER = LD + LOOP + "del a,c,f,g,n\n"


def loop(parts):
    # the loader's loop for these parts (the heap table measures them one by one)
    return LOOP.replace('%s', repr(tuple(parts)))


def _units(src, limit=LIMIT):
    # the module's top-level statements as source texts; a class too big for one piece is cut into the
    # class (as many of its first statements as fit) and one unit per further method: the def, then
    # "Class.name=name" and "del name". In parts loaded later every class is cut so, all its methods
    # out: a def in a class compiles one level deeper, and such a part may load from inside calls, where
    # the micro:bit's C stack has little left.
    lines = src.splitlines(True)
    out = []
    for node in ast.parse(src).body:
        text = ''.join(lines[node.lineno - 1:node.end_lineno])
        if not isinstance(node, ast.ClassDef) or len(text) <= limit and limit != LATER:
            out.append(text)
            continue
        head = ''.join(lines[node.lineno - 1:node.body[0].lineno - 1])
        rest = []
        for item in node.body:
            part = ''.join(lines[item.lineno - 1:item.end_lineno])
            fits = len(head) + len(part) <= limit and limit != LATER
            if not rest and (fits or not isinstance(item, ast.FunctionDef)):
                head += part
            elif isinstance(item, ast.FunctionDef):
                fn = ''.join(ln[1:] for ln in part.splitlines(True))  # stripped: one space per level
                rest.append(fn + '%s.%s=%s\ndel %s\n' % (node.name, item.name, item.name, item.name))
            else:
                raise ValueError('%s: a class statement after a moved method cannot be split' % node.name)
        if len(head.splitlines()) == 1:  # nothing left in it: made by type(), no class body run (no call level)
            bases = ''.join(ast.unparse(b) + ',' for b in node.bases)
            head = '%s=type(%r,(%s),{})\n' % (node.name, node.name, bases)
        out.append(head)
        out.extend(rest)
    return out


def pieces(src, limit=LIMIT):
    # whole units, packed greedily into pieces of at most limit bytes (a unit bigger than that alone)
    out = []
    for u in _units(src, limit):
        if out and len(out[-1]) + len(u) <= limit:
            out[-1] += u
        else:
            out.append(u)
    return out


def build(dest=None):
    # writes DEST/sharedarea.py and a data file per module; returns [(file name, path)]
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
    texts, tables = [], {}
    for rel, flat, pkg in SOURCES:
        with open(os.path.join(ROOT, rel)) as f:
            texts.append(flatten(f.read(), pkg, flat in AT_IMPORT + ('init',), tables))
    texts = unused(texts)
    table = renames(texts + [LOADER])
    for (rel, flat, pkg), text in zip(SOURCES, texts):
        ps = pieces(rename(text, table), LIMIT if flat in AT_IMPORT + ('init',) else LATER)
        for p in ps:
            compile(p, flat, 'exec')  # a rewrite that breaks the syntax fails here, not on the board
        # sharedarea's own pieces are the part init, run into sharedarea's namespace
        put('sa_' + flat, ''.join('%04d' % len(p) + p for p in ps))
    for name, msgs in sorted(tables.items()):
        put('sa_' + name, ''.join('%s\t%s\n' % (table.get(k, k), v) for k, v in msgs.items()))
    text = LOADER.replace('%s', repr(AT_IMPORT + ('init',)))
    compile(text, 'sharedarea.py', 'exec')
    put('sharedarea.py', text)
    return made


if __name__ == '__main__':
    for name, path in build(sys.argv[1] if len(sys.argv) > 1 else None):
        print('%-14s %5d bytes  %s' % (name, os.path.getsize(path), path))

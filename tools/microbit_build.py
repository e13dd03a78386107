# The build of the micro:bit edition (microbit/*.py -> build/microbit/*.py), purely mechanical: comments,
# docstrings and blank lines go, indents become one space, locals get one-letter names. Nothing else changes.
#
#   python tools/microbit_build.py [DEST]    writes the files and prints their sizes
# (The board compiles every module it imports into its heap, where each name is kept for ever in its
# table of names, and its filesystem holds about 15 KB: so short names and no comments.)
import ast
import io
import os
import shutil
import sys
import tokenize

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCES = ('sharedarea.py', 'sa_area.py', 'sa_ints.py', 'sa_locks.py', 'sa_wait.py', 'sa_extra.py', 'sa_names.py', 'sa_spec.py')  # in microbit/: the edition, as the board gets it


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


def build(dest=None):
    # writes DEST/<file> for each of SOURCES; returns [(file name, path)]
    dest = dest or os.path.join(ROOT, 'build', 'microbit')
    if os.path.isdir(dest):
        shutil.rmtree(dest)
    os.makedirs(dest)
    made = []
    for name in SOURCES:
        with open(os.path.join(ROOT, 'microbit', name)) as f:
            text = minify(strip(f.read()))
        compile(text, name, 'exec')  # a build that broke the syntax fails here, not on the board
        path = os.path.join(dest, name)
        with open(path, 'w') as f:
            f.write(text)
        made.append((name, path))
    return made


if __name__ == '__main__':
    for name, path in build(sys.argv[1] if len(sys.argv) > 1 else None):
        print('%-14s %5d bytes  %s' % (name, os.path.getsize(path), path))

# `python -m sharedarea SPEC COMMAND ...` (and the `sharedarea` command pip installs): look at a live area
# from a shell, and change it. CPython only; run `python -m sharedarea -h` for the commands.
import argparse
import json
import os
import sys

import sharedarea

# exit codes: 0 done, 1 the library (or the system) refused, with its message; 2 bad usage (argparse's own)
_ERRORS = (sharedarea.SharedAreaError, OverflowError, TypeError, OSError)
_BITS = (8, 16, 32, 64)


def spec_of(text):
    """The spec string for a shell argument: a path (with a '/') first means file=PATH."""
    first = text.split(',', 1)[0]
    return 'file=' + text if '=' not in first and '/' in first else text


def data_path(spec):
    """The file= path of a spec string, or None."""
    for part in spec.split(','):
        if part.startswith('file='):
            return part[5:]
    return None


def open_area(spec, argv):
    """Opens the area as any other user of it would (joining its companion takes nothing from them)."""
    try:
        return sharedarea.get(sharedarea.add(spec))
    except sharedarea.SharedAreaError:
        _speak_their_protocol(spec, argv)
        raise


def _speak_their_protocol(spec, argv):
    # The processes already using a file area lock it with the other CPython path (compiled or pure):
    # run this command again with theirs, so looking at an area never asks its users to change.
    from sharedarea import port_cpython
    from sharedarea.port_cpython import describe
    path = data_path(spec)
    comp = path and port_cpython.companion(path)
    pure = comp and describe.pure_needed(comp)
    if pure is None or pure == (not port_cpython.FAST) or 'SHAREDAREA_PURE' in os.environ:
        return  # theirs is ours already, or the user chose a path: the library's message says what to do
    os.execve(sys.executable, [sys.executable, '-m', 'sharedarea'] + argv,
              dict(os.environ, SHAREDAREA_PURE='1' if pure else '0'))


def mappers(path):
    """{pid: command name} of the processes (this one left out) that map the file at path."""
    st = os.stat(path)
    out = {}
    for pid in os.listdir('/proc'):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open('/proc/%s/maps' % pid) as f:
                maps = f.read()
        except OSError:
            continue  # gone, or not ours to read (another user's process, without root)
        for ln in maps.splitlines():
            w = ln.split(None, 5)
            if len(w) >= 5 and w[4] == str(st.st_ino):
                major, minor = w[3].split(':')
                if os.makedev(int(major, 16), int(minor, 16)) == st.st_dev:
                    out[int(pid)] = _comm(pid)
                    break
    return out


def _comm(pid):
    try:
        with open('/proc/%s/comm' % pid) as f:
            return f.read().strip()
    except OSError:
        return '?'


def _pids(pids):
    return ', '.join('%d (%s)' % (p, _comm(p)) for p in sorted(pids)) or 'none'


def cmd_info(area, args):
    """Prints what the area is, its counter, its lock and its users."""
    print('spec:      %s' % args.spec)
    print('size:      %d bytes' % area.size)
    me = os.getpid()
    try:
        from sharedarea.port_cpython.describe import describe
        d = describe(area)
    except (ImportError, AttributeError):
        d = None  # not the CPython port's local memory (another kind of area): counter and size only
    if d is None:
        print('updates:   %d' % area.updates)
        return 0
    others = [p for p in d['users'] if p != me]
    print('updates:   %d (the counter lives in the companion, only while some process has the area open; '
          '%s)' % (d['updates'], 'open now in %d other process(es)' % len(others) if others else
                   'no other process has it open, so it starts again from 0 next time'))
    print('companion: %s' % (d['companion'] or 'none (an area of this process only)'))
    print('lock:      %s' % d['protocol'])
    print('writer:    %s' % (_pids([d['writer']]) if d['writer'] else 'none'))
    rd = d['readers']
    print('readers:   %s' % (', '.join('%d (%s, %d hold%s)' % (p, _comm(p), n, '' if n == 1 else 's')
                                      for p, n in sorted(rd.items())) or 'none'))
    if d['waiting']:
        print('waiting:   %s' % _pids(d['waiting']))
    print('users:     %s' % _pids(others))
    path = data_path(args.spec)
    if path:
        print('mapped by: %s' % _pids(mappers(path)))
    elif not d['companion']:
        print('note:      this spec made a new area in this command only; give file=PATH to see a shared one')
    return 0


def hexdump(data, start):
    """Lines in `hexdump -C` layout for data that sits at offset start; '*' for repeated lines."""
    out = []
    prev = None
    starred = False
    for i in range(0, len(data), 16):
        row = data[i:i + 16]
        if row == prev and len(row) == 16:
            if not starred:
                out.append('*')
                starred = True
            continue
        prev, starred = row, False
        hx = ' '.join('%02x' % b for b in row[:8])
        if len(row) > 8:
            hx += '  ' + ' '.join('%02x' % b for b in row[8:])
        text = ''.join(chr(b) if 32 <= b < 127 else '.' for b in row)
        out.append('%08x  %-49s |%s|' % (start + i, hx, text))
    out.append('%08x' % (start + len(data)))
    return out


def cmd_dump(area, args):
    """hexdump -C of the area (or of LEN bytes from POS); --raw writes the bytes themselves."""
    data = area.read(args.pos, args.len)
    if args.raw:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        print('\n'.join(hexdump(data, args.pos)))
    return 0


def _value(area, op, pos, bits, *rest):
    return getattr(area, '%s%d' % (op, bits))(pos, *rest)


def _shown(value, args):
    if getattr(args, 'unsigned', False):
        value &= (1 << args.bits) - 1
    return value


def cmd_get(area, args):
    """Prints the integer at POS."""
    print(_shown(_value(area, 'read', args.pos, args.bits), args))
    return 0


def cmd_set(area, args):
    """Writes an integer at POS."""
    _value(area, 'write', args.pos, args.bits, args.value)
    return 0


def cmd_inc(area, args):
    """Adds AMOUNT at POS and prints the new value."""
    print(_shown(_value(area, args.command, args.pos, args.bits, args.amount), args))
    return 0


def cmd_read(area, args):
    """Prints LEN bytes from POS: hex, or --text (UTF-8), or --raw bytes."""
    data = area.read(args.pos, args.len)
    if args.raw:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    elif args.text:
        print(data.decode('utf-8', 'replace'))
    else:
        print(data.hex())
    return 0


def cmd_write(area, args):
    """Writes bytes at POS: --hex, --text, or standard input ('-')."""
    if args.hex is not None:
        data = bytes.fromhex(args.hex)
    elif args.text is not None:
        data = args.text.encode()
    else:
        data = sys.stdin.buffer.read()
    area.write(args.pos, data)
    return 0


def _snapshot(area, args):
    # the counter and the watched value, together: under the read lock no update can land between them
    with area.rlock():
        n = area.updates
        if args.bits:
            return n, _shown(_value(area, 'read', args.pos, args.bits), args)
        return n, area.read(args.pos, args.len)


def _wait(area, since, state):
    # wait(since=n) returns at once if an update landed since n was read, so none is missed; a core
    # without since= (older versions) is polled instead, a tenth of a second at a time
    if not state.get('poll'):
        try:
            area.wait(since=since)
            return
        except TypeError:
            state['poll'] = True
    while area.updates == since:
        area.wait(timeout=0.1)


def _line(n, value, args, prev):
    if args.json:
        if args.bits:
            return json.dumps({'updates': n, 'pos': args.pos, 'value': value})
        return json.dumps({'updates': n, 'pos': args.pos, 'hex': value.hex()})
    if args.bits:
        return 'updates=%d  %d: %d' % (n, args.pos, value)
    if len(value) <= 32 or prev is None:
        return 'updates=%d  %d: %s' % (n, args.pos, value.hex(' ') if len(value) <= 32 else
                                         '(%d bytes; changed ranges follow)' % len(value))
    runs = []  # a long range: only the bytes that changed since the last line
    i = 0
    while i < len(value):
        if value[i] != prev[i]:
            j = i
            while j < len(value) and value[j] != prev[j]:
                j += 1
            runs.append('%d: %s' % (args.pos + i, value[i:j].hex(' ')))
            i = j
        else:
            i += 1
    return 'updates=%d  %s' % (n, '  '.join(runs) or '(no byte changed)')


def cmd_watch(area, args):
    """A line now, then a line per update until --count updates have been seen (or Ctrl-C)."""
    if args.len == 0 and not args.bits:
        args.len = area.size - args.pos
    n0, value = _snapshot(area, args)
    print(_line(n0, value, args, None), flush=True)
    n, state = n0, {}
    while not args.count or n - n0 < args.count:
        _wait(area, n, state)
        n1, new = _snapshot(area, args)
        if n1 != n:
            print(_line(n1, new, args, value), flush=True)
        n, value = n1, new
    return 0


def cmd_list(args):
    """The file areas in use on this machine: companions in the companion directory and their users."""
    from sharedarea import port_cpython
    from sharedarea.port_cpython import describe
    d = port_cpython.companion_dir()
    rows = []
    for name in sorted(os.listdir(d)):
        if not name.startswith('sharedarea-'):
            continue
        comp = os.path.join(d, name)
        try:
            dev, ino = (int(x, 16) for x in name.split('-')[1:3])
        except ValueError:
            continue
        users = describe.lock_users(comp)
        rows.append((comp, _find_data(dev, ino, d), describe.read_counter(comp), users))
    used = [r for r in rows if r[3]]
    if not used:
        print('no areas in use (no companion in %s has a user)' % d)
    for comp, path, n, users in used:
        print('%s  updates=%s  users: %s' % (path or '(file not found)', n, _pids(users)))
        print('    companion %s' % comp)
    left = [r for r in rows if not r[3]]
    if left:
        # a last user killed by SIGKILL leaves its companion; the next user of that file takes it over
        print('left over (no process has them open): %s' % ', '.join(
            '%s (%s)' % (comp, path or 'file not found') for comp, path, n, users in left))
    return 0


def _find_data(dev, ino, folder):
    # the data file a companion belongs to: mapped by some process, or in the companion's own folder
    for name in os.listdir(folder):
        st = os.lstat(os.path.join(folder, name))
        if (st.st_dev, st.st_ino) == (dev, ino):
            return os.path.join(folder, name)
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open('/proc/%s/maps' % pid) as f:
                maps = f.read()
        except OSError:
            continue
        for ln in maps.splitlines():
            w = ln.split(None, 5)
            if len(w) == 6 and w[4] == str(ino):
                major, minor = w[3].split(':')
                if os.makedev(int(major, 16), int(minor, 16)) == dev:
                    return w[5].replace(' (deleted)', '')
    return None


def _int(text):
    return int(text, 0)


def parser():
    """The argument parser: SPEC, then a command and its arguments."""
    ap = argparse.ArgumentParser(
        prog='sharedarea' if os.path.basename(sys.argv[0]) == 'sharedarea' else 'python -m sharedarea', description='Look at a shared area from a shell, and change it.',
        epilog='SPEC is a spec string (file=/dev/shm/x, file=/dev/shm/x,size=4096, ...) or a path. Positions '
               'and values take 0x-hex. Exit status: 0 done, 1 refused by the library (its message is '
               'printed), 2 bad usage. `python -m sharedarea list` lists the areas in use.')
    ap.add_argument('spec', metavar='SPEC', help='the area (or "list")')
    sub = ap.add_subparsers(dest='command', metavar='COMMAND')
    bits = dict(type=int, choices=_BITS, default=64, help='integer width (default 64)')

    sub.add_parser('info', help='size, update counter, companion, lock holders, users')
    p = sub.add_parser('dump', help='hexdump -C of the area, or of LEN bytes from POS')
    p.add_argument('pos', nargs='?', type=_int, default=0)
    p.add_argument('len', nargs='?', type=_int, default=0, help='bytes (default: to the end)')
    p.add_argument('--raw', action='store_true', help='write the bytes to stdout (for | xxd, > file)')
    p = sub.add_parser('get', help='the integer at POS')
    p.add_argument('pos', type=_int)
    p.add_argument('--bits', **bits)
    p.add_argument('--unsigned', action='store_true')
    p = sub.add_parser('set', help='write an integer at POS')
    p.add_argument('pos', type=_int)
    p.add_argument('value', type=_int)
    p.add_argument('--bits', **bits)
    for op in ('inc', 'dec'):
        p = sub.add_parser(op, help='%s the integer at POS by AMOUNT (default 1); prints the new value' % (
            'add to' if op == 'inc' else 'subtract from'))
        p.add_argument('pos', type=_int)
        p.add_argument('amount', nargs='?', type=_int, default=1)
        p.add_argument('--bits', **bits)
        p.add_argument('--unsigned', action='store_true')
    p = sub.add_parser('read', help='LEN bytes from POS, in hex')
    p.add_argument('pos', type=_int)
    p.add_argument('len', type=_int)
    g = p.add_mutually_exclusive_group()
    g.add_argument('--text', action='store_true', help='as UTF-8 text')
    g.add_argument('--raw', action='store_true', help='the bytes themselves')
    p = sub.add_parser('write', help='write bytes at POS')
    p.add_argument('pos', type=_int)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument('--hex', help='the bytes in hex')
    g.add_argument('--text', help='a string, stored as UTF-8')
    g.add_argument('stdin', nargs='?', choices=('-',), help='- reads the bytes from standard input')
    p = sub.add_parser('watch', help='a line now and a line per update (none missed)')
    p.add_argument('pos', nargs='?', type=_int, default=0)
    p.add_argument('len', nargs='?', type=_int, default=0, help='bytes (default: to the end)')
    p.add_argument('--bits', type=int, choices=_BITS, help='show the integer at POS instead of bytes')
    p.add_argument('--unsigned', action='store_true')
    p.add_argument('--count', type=int, default=0, help='stop after N updates (default: never)')
    p.add_argument('--json', action='store_true', help='a JSON object per line')
    return ap


COMMANDS = {'info': cmd_info, 'dump': cmd_dump, 'get': cmd_get, 'set': cmd_set, 'inc': cmd_inc, 'dec': cmd_inc,
            'read': cmd_read, 'write': cmd_write, 'watch': cmd_watch}


def main(argv=None):
    """Runs one command; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ['list']:
        if len(argv) > 1:
            parser().error('list takes no arguments')
        return cmd_list(None)
    ap = parser()
    args = ap.parse_args(argv)
    if not args.command:
        ap.error('give a COMMAND after SPEC (info, dump, get, set, inc, dec, read, write, watch)')
    args.spec = spec_of(args.spec)
    try:
        area = open_area(args.spec, argv)
        try:
            return COMMANDS[args.command](area, args)
        finally:
            area.close()
    except _ERRORS as e:
        print('sharedarea: %s' % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0  # | head closed the pipe: what was asked for has been shown

# The messages of the errors raised on the paths every program uses (the core's ops, add/get/close, the
# MicroPython port), in one table that is loaded only when something fails: on the micro:bit their
# texts would otherwise take a tenth of the heap at import. fail() raises.
from .area import SharedAreaError

_MSG = {
    'int': '%s must be an int, not %s',
    'buffer': 'add() takes a spec string, a page count or a bytearray, not %s',
    'closed': 'sharedarea %d is closed',
    'pos': 'sharedarea %d: pos %d is outside 0..%d',
    'end': 'sharedarea %d: %d bytes at pos %d cross the end (size %d)',
    'length': 'sharedarea %d: length %d is negative',
    'pages': 'bad sharedarea spec %d: pages must be more than 0',
    'id': 'no sharedarea %d (%d added)',
    'empty': 'the buffer is empty; an area needs at least one byte',
    'rlocked': 'this thread holds rlock on the area; a write needs wlock (unlock first)',
    'part': 'no part %r of sharedarea (parts: %s)',
    'unloaded': "'SharedArea' object has no attribute %r (not loaded? see sharedarea.load)",
    # of the parts ints, locks and extra
    'overflow': '%s %d does not fit in %d bits (%d..%d)',
    'unlock': 'sharedarea %d: unlock() without a lock held by this thread',
    'readfast': 'sharedarea %d: length %d is not in 0..%d (the buffer size)',
    'numbers': 'freq and timeout must be numbers',
    'freq': 'sharedarea %d: freq must be > 0 and timeout >= 0',
    'noview': 'memoryview() needs memoryview, which this firmware does not have',
    'noobject': 'sharedarea %d was not made from a buffer: no object() to return',
}


def _int(key, args):
    # the error when the value key checks first is not an int (a bad type is a TypeError first), else None
    if key == 'chk' and args[0]._b is None:  # a closed area says so before anything about pos
        return 'closed', (args[0].id,)
    if key in ('int', 'chk', 'length', 'get') and not isinstance(args[1], int):
        return 'int', (args[0] if key == 'int' else {'chk': 'pos', 'length': 'length', 'get': 'id'}[key],
                       type(args[1]))
    if key != 'int':
        return _which(key, args)


def _which(key, args):
    # which of the checks on the common path failed, as (key, args); None where all pass after all
    if key == 'chk':  # (area, pos, n): those of SharedArea._chk
        a, pos, n = args
        if not 0 <= pos < a.size:
            return 'pos', (a.id, pos, a.size - 1)
        if pos + n > a.size:
            return 'end', (a.id, n, pos, a.size)
    elif key == 'length':  # (area, length)
        if args[1] < 0:
            return key, (args[0].id, args[1])
    elif key == 'get':  # (areas, id)
        areas, i = args
        if not 0 <= i < len(areas):
            return 'id', (i, len(areas))
        if areas[i]._b is None:
            return 'closed', (i,)
    else:
        return key, args


def fail(key, *args):
    # raises the error key names, or returns where the values turn out fine (a bool for an int)
    e = _int(key, args)
    if e:
        key, args = e
        raise (TypeError if key in ('int', 'buffer', 'numbers') else AttributeError if key == 'unloaded' else
               OverflowError if key == 'overflow' else SharedAreaError)(_MSG[key] % args)

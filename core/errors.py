# The messages of the errors raised on the paths every program uses (the core's ops, add/get/close, the
# MicroPython port), in one table that is loaded only when something fails: on the micro:bit their
# texts would otherwise take a tenth of the heap at import. area.fail() raises what first(), which() or
# other() finds, with its message. (Small functions called one after the other from area.fail, not one
# function calling others: on the micro:bit the board compiles each in a little heap, and every call
# level takes C stack, while an error is often raised a few levels deep already.)
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
    # of the part spec: each after 'bad sharedarea spec ...: '
    'num': '%s%s=%r is not a number (%s)',
    'big': '%s%s=%s is too big',
    'blank': '%sempty',
    'key': '%sunknown key %r (keys: %s)',
    'twice': '%s%s given twice',
    'novalue': '%s%s has no value',
    'both': '%s%s and %s cannot be combined',
    'zero': '%s%s must be more than 0',
    'disagree': '%spages=%d (%d bytes) and size=%d disagree',
    'offset': '%soffset= needs file= or fd=',
    'nosize': '%s%s= needs size=',
    'what': '%sgive pages=, size=, file=, fd= or ptr=',
    'nommap': 'file= and fd= areas need mmap, which MicroPython does not have',
    'null': 'ptr=0 is a NULL pointer',
    'noredis': '%s%s= goes with redis=HOST:PORT',  # (issue 15)
}


_INTS = ('int', 'chk', 'length', 'get')  # the keys whose check is of an int first (first() and other())


def first(key, args):
    # (type, message key, values) when the value key checks first is not an int (a bad type is a
    # TypeError first), when the area is closed, or when get's id is wrong; else None
    if key == 'chk' and args[0]._b is None:  # a closed area says so before anything about pos
        return SharedAreaError, 'closed', (args[0].id,)
    if key in _INTS and not isinstance(args[1], int):
        return TypeError, 'int', (args[0] if key == 'int' else {'chk': 'pos', 'length': 'length', 'get': 'id'}[key],
                                  type(args[1]))
    if key == 'get':  # (areas, id)
        areas, i = args
        if not 0 <= i < len(areas):
            return SharedAreaError, 'id', (i, len(areas))
        if areas[i]._b is None:
            return SharedAreaError, 'closed', (i,)


def which(key, args):
    # then (type, message key, values) when one of the checks in SharedArea._chk, or read's length,
    # failed; None where the values are fine after all, or for another key
    if key == 'chk':  # (area, pos, n)
        a, pos, n = args
        if not 0 <= pos < a.size:
            return SharedAreaError, 'pos', (a.id, pos, a.size - 1)
        if pos + n > a.size:
            return SharedAreaError, 'end', (a.id, n, pos, a.size)
    elif key == 'length' and args[1] < 0:  # (area, length)
        return SharedAreaError, key, (args[0].id, args[1])


def other(key, args):
    # then (type, message key, values) of any other key (spec: the spec, what is wrong, values)
    if key == 'spec':
        return SharedAreaError, args[1], ('bad sharedarea spec %r: ' % args[0],) + args[2:]
    if key not in _INTS:
        return (TypeError if key in ('buffer', 'numbers') else AttributeError if key == 'unloaded' else
                OverflowError if key == 'overflow' else SharedAreaError), key, args

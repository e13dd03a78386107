# Parses uWSGI --sharedarea spec strings ("4", "pages=2", "file=/x,size=0x1000,offset=8", ...) into a
# dict of the keys given, checked alone and together; add() then asks the port for that kind of memory.
from .area import SharedAreaError

KEYS = ('pages', 'file', 'fd', 'ptr', 'size', 'offset', 'shared')
_WORD_KEYS = ('file', 'shared')  # the keys whose value is text, not a number
_SHARED = ('user', 'group')  # shared=: who else may have made a file= in /dev/shm (docs/security.md)
_REDIS = ('key', 'db', 'timeout', 'lease')  # keys of redis= specs, which add() hands to .redis_area
_HEX_KEYS = ('size', 'offset', 'ptr')  # uWSGI reads these as decimal or 0x-hex, pages= and fd= as decimal


def _bad(spec, why):
    if len(spec) > 80:
        spec = spec[:60] + '...'  # a spec of a million digits is not repeated in the message
    raise SharedAreaError('bad sharedarea spec %r: %s' % (spec, why))


def _number(spec, key, text):
    # no sign, spaces, octal or trailing junk (uWSGI itself reads "0X10" or "pages=0x2" as 0, "12abc" as 12)
    hexa = text[:2] == '0x' and key in _HEX_KEYS
    digits = text[2:] if hexa else text
    allowed = '0123456789abcdefABCDEF' if hexa else '0123456789'
    if not digits or any(c not in allowed for c in digits):
        _bad(spec, '%s=%r is not a number (%s)' % (key, text, 'decimal or 0x-hex' if key in _HEX_KEYS else 'decimal'))
    # more than 2**60 is memory nobody has; checked on the digits, so no huge int is ever built
    n = len(digits.lstrip('0'))
    if n > (15 if hexa else 18):
        _bad(spec, '%s= has %d digits: too big (at most %s)' % (key, n, '15 hex digits' if hexa else '18 digits'))
    return int(digits, 16 if hexa else 10)


def parse(spec, page_size):
    """The keys of a spec string as a dict (size worked out from pages=); SharedAreaError if it is bad."""
    if spec.isdigit():
        spec = 'pages=' + spec
    if not spec:
        _bad(spec, 'empty')
    kv = {}
    for part in spec.split(','):
        key, _, value = part.partition('=')
        if key in _REDIS:  # (issue 15)
            _bad(spec, '%s= goes with redis=HOST:PORT' % key)
        if key not in KEYS:
            _bad(spec, 'unknown key %r (keys: %s)' % (key, ' '.join(KEYS)))
        if key in kv:
            _bad(spec, '%s given twice' % key)
        if not value:
            _bad(spec, '%s has no value' % key)
        kv[key] = value if key in _WORD_KEYS else _number(spec, key, value)
    return _together(spec, kv, page_size)


def _together(spec, kv, page_size):
    # the rules between keys
    source = [k for k in ('file', 'fd', 'ptr') if k in kv]
    if len(source) > 1:
        _bad(spec, '%s and %s cannot be combined' % (source[0], source[1]))
    for key in ('pages', 'size'):
        if kv.get(key) == 0:
            _bad(spec, '%s must be more than 0' % key)
    if 'pages' in kv:
        n = kv['pages'] * page_size
        if kv.setdefault('size', n) != n:
            _bad(spec, 'pages=%d (%d bytes) and size=%d disagree' % (kv['pages'], n, kv['size']))
    if 'offset' in kv and not ('file' in kv or 'fd' in kv):
        _bad(spec, 'offset= needs file= or fd=')
    if 'shared' in kv:
        if 'file' not in kv:
            _bad(spec, 'shared= needs file=')
        if kv['shared'] not in _SHARED:
            _bad(spec, 'shared=%s: give shared=group (a file of another user, shared through its group) or '
                       'shared=user (the default)' % kv['shared'])
    if ('fd' in kv or 'ptr' in kv) and 'size' not in kv:
        _bad(spec, '%s= needs size=' % source[0])
    if 'ptr' in kv and not kv['ptr']:
        _bad(spec, 'ptr=0 is a NULL pointer')
    if not source and 'size' not in kv:
        _bad(spec, 'give pages=, size=, file=, fd= or ptr=')
    return kv

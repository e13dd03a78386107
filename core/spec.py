# Parses uWSGI --sharedarea spec strings ("4", "pages=2", "file=/x,size=0x1000,offset=8", ...).
# Returns a dict of the keys given; add() then asks the port for that kind of memory.
from .area import SharedAreaError

_KEYS = ('pages', 'file', 'fd', 'ptr', 'size', 'offset')
# what is wrong with a bad spec (loaded only with this part, unlike the core's messages in .errors)
_WHY = {
    'num': '%s=%r is not a number (%s)',
    'big': '%s=%s is too big',
    'blank': 'empty',
    'key': 'unknown key %r (keys: %s)',
    'twice': '%s given twice',
    'novalue': '%s has no value',
    'both': '%s and %s cannot be combined',
    'zero': '%s must be more than 0',
    'disagree': 'pages=%d (%d bytes) and size=%d disagree',
    'offset': 'offset= needs file= or fd=',
    'nosize': '%s= needs size=',
    'what': 'give pages=, size=, file=, fd= or ptr=',
}


def _bad(spec, why, *args):
    raise SharedAreaError('bad sharedarea spec %r: ' % spec + _WHY[why] % args)


def _num(spec, k, v):
    # as uWSGI reads them: size= and offset= decimal or 0x-hex, pages= and fd= decimal only; no sign,
    # spaces, octal or trailing junk (uWSGI reads "0X10", "pages=0x2" as 0 and "12abc" as 12)
    h = v[:2] == '0x' and k in ('size', 'offset', 'ptr')
    d = v[2:] if h else v
    ok = '0123456789abcdefABCDEF' if h else '0123456789'
    if not d or any(c not in ok for c in d):
        _bad(spec, 'num', k, v, 'decimal or 0x-hex' if k in ('size', 'offset', 'ptr') else 'decimal')
    # more than 2**60 is no memory anyone has; checked on the digits so small boards need no big ints
    if len(d.lstrip('0')) > (15 if h else 18):
        _bad(spec, 'big', k, v)
    return int(d, 16 if h else 10)


def parse(spec, page):
    if spec.isdigit():
        spec = 'pages=' + spec
    if not spec:
        _bad(spec, 'blank')
    kv = {}
    for part in spec.split(','):
        k, v = (part.split('=', 1) + [''])[:2]  # no str.partition on the micro:bit
        if k not in _KEYS:
            _bad(spec, 'key', k, ' '.join(_KEYS))
        if k in kv:
            _bad(spec, 'twice', k)
        if not v:
            _bad(spec, 'novalue', k)
        kv[k] = v if k == 'file' else _num(spec, k, v)
    src = [k for k in ('file', 'fd', 'ptr') if k in kv]
    if len(src) > 1:
        _bad(spec, 'both', src[0], src[1])
    for k in ('pages', 'size'):
        if kv.get(k) == 0:
            _bad(spec, 'zero', k)
    if 'pages' in kv:
        n = kv['pages'] * page
        if kv.setdefault('size', n) != n:
            _bad(spec, 'disagree', kv['pages'], n, kv['size'])
    if 'offset' in kv and not ('file' in kv or 'fd' in kv):
        _bad(spec, 'offset')
    if ('fd' in kv or 'ptr' in kv) and 'size' not in kv:
        _bad(spec, 'nosize', src[0])
    if not src and 'size' not in kv:
        _bad(spec, 'what')
    return kv


def memory(spec, port):
    # the port's memory for a spec string
    kv = parse(spec, port.PAGE_SIZE)
    if ('file' in kv or 'fd' in kv) and not hasattr(port, 'file'):
        raise SharedAreaError('file= and fd= areas need mmap, which MicroPython does not have')
    if 'file' in kv:
        return port.file(kv['file'], kv.get('size'), kv.get('offset', 0))
    if 'fd' in kv:
        return port.fd(kv['fd'], kv['size'], kv.get('offset', 0))
    if 'ptr' in kv:
        return port.ptr(kv['ptr'], kv['size'])
    return port.anon(kv['size'])

# Parses uWSGI --sharedarea spec strings ("4", "pages=2", "file=/x,size=0x1000,offset=8", ...).
# Returns a dict of the keys given; add() then asks the port for that kind of memory. A bad spec fails
# with fail('spec', spec, what is wrong, values): the messages are in .errors.
from .area import fail

_KEYS = ('pages', 'file', 'fd', 'ptr', 'size', 'offset')
_REDIS = ('key', 'db', 'timeout', 'lease')  # issue 15


def _num(spec, k, v):
    # as uWSGI reads them: size= and offset= decimal or 0x-hex, pages= and fd= decimal only; no sign,
    # spaces, octal or trailing junk (uWSGI reads "0X10", "pages=0x2" as 0 and "12abc" as 12)
    h = v[:2] == '0x' and k in ('size', 'offset', 'ptr')
    d = v[2:] if h else v
    ok = '0123456789abcdefABCDEF' if h else '0123456789'
    if not d or any(c not in ok for c in d):
        fail('spec', spec, 'num', k, v, 'decimal or 0x-hex' if k in ('size', 'offset', 'ptr') else 'decimal')
    # more than 2**60 is no memory anyone has; checked on the digits so small boards need no big ints
    if len(d.lstrip('0')) > (15 if h else 18):
        fail('spec', spec, 'big', k, v)
    return int(d, 16 if h else 10)


def parse(spec, page):
    if spec.isdigit():
        spec = 'pages=' + spec
    if not spec:
        fail('spec', spec, 'blank')
    kv = {}
    for part in spec.split(','):
        k, v = (part.split('=', 1) + [''])[:2]  # no str.partition on the micro:bit
        if k in _REDIS:  # issue 15: keys of redis= specs (add() hands those to .redis_area)
            fail('spec', spec, 'noredis', k)
        if k not in _KEYS:
            fail('spec', spec, 'key', k, ' '.join(_KEYS))
        if k in kv:
            fail('spec', spec, 'twice', k)
        if not v:
            fail('spec', spec, 'novalue', k)
        kv[k] = v if k == 'file' else _num(spec, k, v)
    return _rules(spec, kv, page)


def _rules(spec, kv, page):
    # the keys given, taken together
    src = [k for k in ('file', 'fd', 'ptr') if k in kv]
    if len(src) > 1:
        fail('spec', spec, 'both', src[0], src[1])
    for k in ('pages', 'size'):
        if kv.get(k) == 0:
            fail('spec', spec, 'zero', k)
    if 'pages' in kv:
        n = kv['pages'] * page
        if kv.setdefault('size', n) != n:
            fail('spec', spec, 'disagree', kv['pages'], n, kv['size'])
    if 'offset' in kv and not ('file' in kv or 'fd' in kv):
        fail('spec', spec, 'offset')
    if ('fd' in kv or 'ptr' in kv) and 'size' not in kv:
        fail('spec', spec, 'nosize', src[0])
    if not src and 'size' not in kv:
        fail('spec', spec, 'what')
    return kv


def memory(spec, port):
    # the port's memory for a spec string
    kv = parse(spec, port.PAGE_SIZE)
    if ('file' in kv or 'fd' in kv) and not hasattr(port, 'file'):
        fail('nommap')
    if 'file' in kv:
        return port.file(kv['file'], kv.get('size'), kv.get('offset', 0))
    if 'fd' in kv:
        return port.fd(kv['fd'], kv['size'], kv.get('offset', 0))
    if 'ptr' in kv:
        return port.ptr(kv['ptr'], kv['size'])
    return port.anon(kv['size'])

# The spec strings of the micro:bit edition of sharedarea (uWSGI's --sharedarea values): imported by add()
# for any spec other than "N", "pages=N" and "size=N", so a program that uses only those never loads it.
from sa_area import PAGE_SIZE, SharedAreaError

KEYS = ('pages', 'file', 'fd', 'ptr', 'size', 'offset')


def parse(spec):
    """(size, address or 0) of a spec string."""
    bad = 'bad sharedarea spec %r: ' % spec
    kv = {}
    for part in ('pages=' + spec if spec.isdigit() else spec).split(','):
        k, v = (part.split('=', 1) + [''])[:2]  # (no str.partition on this firmware)
        if k not in KEYS:
            raise SharedAreaError(bad + 'unknown key %r (keys: %s)' % (k, ' '.join(KEYS)))
        if k in kv:
            raise SharedAreaError(bad + '%s given twice' % k)
        if not v:
            raise SharedAreaError(bad + '%s has no value' % k)
        kv[k] = v if k == 'file' else number(bad, k, v)
    if 'file' in kv or 'fd' in kv:
        raise SharedAreaError(bad + 'file= and fd= areas need mmap, which the micro:bit edition does not have')
    for k in ('pages', 'size'):
        if kv.get(k) == 0:
            raise SharedAreaError(bad + '%s must be more than 0' % k)
    if 'pages' in kv:
        n = kv['pages'] * PAGE_SIZE
        if kv.setdefault('size', n) != n:
            raise SharedAreaError(bad + 'pages=%d (%d bytes) and size=%d disagree' % (kv['pages'], n, kv['size']))
    if 'offset' in kv:
        raise SharedAreaError(bad + 'offset= needs file= or fd=')
    if 'size' not in kv:
        raise SharedAreaError(bad + ('ptr= needs size=' if 'ptr' in kv else 'give pages=, size= or ptr='))
    if kv.get('ptr', 1) == 0:
        raise SharedAreaError(bad + 'ptr=0 is a NULL pointer')
    return kv['size'], kv.get('ptr', 0)


def number(bad, k, v):
    # as uWSGI reads them: size=, offset= and ptr= decimal or 0x-hex, pages= and fd= decimal only; no sign,
    # spaces, octal or trailing junk
    h = v[:2] == '0x' and k in ('size', 'offset', 'ptr')
    d = v[2:] if h else v
    if not d or any(c not in ('0123456789abcdefABCDEF' if h else '0123456789') for c in d):
        raise SharedAreaError(bad + '%s=%r is not a number (%s)' % (
            k, v, 'decimal or 0x-hex' if k in ('size', 'offset', 'ptr') else 'decimal'))
    if len(d.lstrip('0')) > (15 if h else 18):  # more than 2**60 is no memory anyone has
        raise SharedAreaError(bad + '%s=%s is too big' % (k, v))
    return int(d, 16 if h else 10)

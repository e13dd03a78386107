# The same --sharedarea strings in real uWSGI and in sharedarea.add(): what each accepts and the size it
# gives. A spec uWSGI rejects we reject too, except the file= forms SPEC.md gives a meaning (listed here).
import os

import pytest

import sharedarea
import uwsgi_diff
from sharedarea import SharedAreaError

P = uwsgi_diff.PAGE

# spec -> how the two compare: 'same' (both accept, same size), 'both-reject', 'rounds' (uWSGI rounds an
# anonymous size= up to whole pages), 'stricter' (uWSGI takes it with a guess, we refuse: junk after a
# number, unknown or repeated keys, empty areas, keys it ignores), 'extension' (uWSGI refuses, SPEC.md
# defines it: file= created when missing, size from the file, any offset)
SPECS = [
    ('4', 'same'), ('pages=2', 'same'), ('size=0x1000', 'same'), ('size=%d' % (2 * P), 'same'),
    ('pages=1,size=%d' % P, 'same'), ('size=0x%x,pages=1' % P, 'same'),
    ('size=100', 'rounds'), ('size=%d' % (P + 1), 'rounds'), ('size=010', 'rounds'), ('size=0x10', 'rounds'),
    ('0', 'stricter'), ('abc', 'stricter'), ('pages', 'stricter'), (' 4', 'stricter'), ('4 ', 'stricter'),
    ('1,2', 'stricter'), ('pages=1,foo=2', 'stricter'), ('pages=1,pages=2', 'stricter'),
    ('pages=1,,size=5', 'stricter'), ('size=12abc', 'stricter'), ('size=1e3', 'stricter'),
    ('size=+100', 'stricter'), ('size= 100', 'stricter'), ('pages=2,offset=5', 'stricter'),
    ('pages=2,size=100', 'stricter'), ('file={short},size=%d' % (2 * P), 'stricter'),
    ('-1', 'both-reject'), ('pages=-1', 'both-reject'), ('pages=0', 'both-reject'), ('size=0', 'both-reject'),
    ('size=0X1000', 'both-reject'), ('foo=1', 'both-reject'), ('pages=', 'both-reject'), ('=4', 'both-reject'),
    ('pages=0x2', 'both-reject'), ('size=-1', 'both-reject'), ('size=0x', 'both-reject'),
    ('size=0xg', 'both-reject'), ('size=18446744073709551617', 'both-reject'), ('pages=1,file=', 'both-reject'),
    ('file={f},size=100', 'same'), ('size=100,file={f}', 'same'), ('file={f},size=100,offset=%d' % P, 'same'),
    ('file={f},size=0x64,offset=0x%x' % P, 'same'), ('file={f},size=%d' % (3 * P), 'same'),
    ('file={missing},size=%d' % P, 'extension'), ('file={f}', 'extension'), ('file={f},pages=1', 'extension'),
    ('file={f},size=100,offset=%d' % (P + 4), 'extension'),
]


def uwsgi_size(spec, d):
    # the size uWSGI gives area 0 for this spec, or None when it refuses to start (memoryview: no access)
    try:
        r = uwsgi_diff.run_uwsgi({'specs': [spec], 'steps': [[['mv_info', [0]]]]}, d, timeout=30)
    except RuntimeError:
        return None
    return r['steps'][0][0]['ok']['d']['nbytes']


def our_size(spec):
    try:
        a = sharedarea.get(sharedarea.add(spec))
    except SharedAreaError as e:
        assert 'spec' in str(e) or 'file' in str(e) or '/' in str(e), str(e)  # the message says what
        return None
    try:
        return a.size
    finally:
        a.close()


@pytest.mark.parametrize('spec,how', SPECS)
def test_spec_like_uwsgi(spec, how, tmp_path):
    why = uwsgi_diff.missing()
    if why:
        pytest.skip(why)
    d = str(tmp_path)
    paths = {'f': os.path.join(d, 'f.bin'), 'short': os.path.join(d, 'short.bin'),
             'missing': os.path.join(d, 'missing.bin')}
    with open(paths['f'], 'wb') as f:
        f.write(bytes(range(256)) * (4 * P // 256))
    with open(paths['short'], 'wb') as f:
        f.write(bytes(P))
    spec = spec.format(**paths)
    theirs = uwsgi_size(spec, d)
    if os.path.exists(paths['missing']):
        os.unlink(paths['missing'])
    ours = our_size(spec)
    for p in paths.values():
        try:
            st = os.stat(p)
            os.unlink('/dev/shm/sharedarea-%x-%x' % (st.st_dev, st.st_ino))
        except OSError:
            pass
    if how == 'same':
        assert theirs is not None and ours == theirs, (theirs, ours)
    elif how == 'both-reject':
        assert theirs is None and ours is None, (theirs, ours)
    elif how == 'rounds':
        assert ours is not None and theirs == -(-ours // P) * P, (theirs, ours)
    elif how == 'stricter':
        assert theirs is not None and ours is None, (theirs, ours)
    else:
        assert theirs is None and ours is not None, (theirs, ours)

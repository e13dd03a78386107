# Portable tests of the drop-in `uwsgi` module (sharedarea.uwsgi): code written against uWSGI's
# `import uwsgi; uwsgi.sharedarea_*` runs outside uWSGI on areas made from --sharedarea strings.
import sys

import sharedarea
import sharedarea.uwsgi as shim
from sharedarea import SharedAreaError
from sa_testutil import raises


def test_install_makes_import_uwsgi_work():
    m = shim.install(['pages=1', 'size=16'])
    assert m is shim and sys.modules['uwsgi'] is shim
    import uwsgi
    assert uwsgi is shim
    uwsgi.sharedarea_write(1, 0, b'hello')
    assert uwsgi.sharedarea_read(1, 0, 5) == b'hello'
    assert uwsgi.sharedarea_read(1, 12) == bytes(4)
    assert len(uwsgi.sharedarea_read(0, 0)) == sharedarea.PAGE_SIZE
    assert uwsgi.sharedarea_inc32(0, 8, 5) == 5  # uWSGI returns None here; we return the new value
    assert uwsgi.sharedarea_readlong(0, 8) == 5
    raises(SharedAreaError, uwsgi.sharedarea_read8, 2, 0)  # only the configured ids exist
    raises(ValueError, uwsgi.sharedarea_read8, 1, 16)  # ValueError, as uWSGI raises


def test_every_uwsgi_name_is_there():
    # the 24 names uWSGI 2.0's Python binding has
    names = ('read write read8 read16 read32 read64 write8 write16 write32 write64 inc32 inc64 dec32 dec64 '
             'readbyte writebyte readlong writelong inclong rlock wlock unlock memoryview object').split()
    for n in names:
        assert callable(getattr(shim, 'sharedarea_' + n)), n


def test_configure_restarts_the_ids():
    assert shim.configure(['1', 'size=8']) == [0, 1]
    shim.sharedarea_write8(1, 7, 200)
    assert shim.configure('size=4') == [0]  # one string is one area
    assert sharedarea.get(0).size == 4
    raises(SharedAreaError, shim.sharedarea_read8, 1, 0)
    raises(SharedAreaError, shim.configure, ['pages=0x2'])  # a spec uWSGI rejects


def test_install_keeps_an_existing_uwsgi_module():
    class Other:  # stands in for the module real uWSGI provides to its workers
        pass
    other = Other()
    saved = sys.modules.get('uwsgi')
    sys.modules['uwsgi'] = other
    try:
        assert shim.install(['1']) is other
    finally:
        if saved is None:
            del sys.modules['uwsgi']
        else:
            sys.modules['uwsgi'] = saved

# uWSGI's `uwsgi` module, SharedArea part, for code running outside uWSGI (its unit tests, scripts):
# `import uwsgi` then finds these sharedarea_* names, on areas made from --sharedarea strings.
import sys

import sharedarea as _sa
from sharedarea import SharedAreaError  # noqa: F401 (re-exported for callers that catch it)

_me = sys.modules[__name__]


def configure(specs):
    """Closes every area and makes new ones from --sharedarea strings, ids 0, 1, ... (a restarted uWSGI)."""
    if isinstance(specs, str):
        specs = [specs]
    made = []
    try:
        for s in specs:  # all of them first: a bad spec leaves the old areas as they were
            made.append(_sa._memory(s))
    except BaseException:
        for m in made:
            m.sync.close()
            m.close()
        raise
    with _sa._registry:  # one step for threads calling add(), get() or ops meanwhile
        for a in _sa._areas:
            a.close()
        del _sa._areas[:]
        return [_sa._register(m) for m in made]


def install(specs=None):
    """Makes `import uwsgi` give this module (inside real uWSGI its own module stays and is returned)."""
    m = sys.modules.get('uwsgi')
    if m is None or m is _me:
        m = sys.modules['uwsgi'] = _me
        if specs is not None:
            configure(specs)
    return m


def _setup():
    g = globals()
    d = _sa.__dict__  # not dir(): MicroPython's misses names a module set through globals()
    for k in d:
        if k.startswith('sharedarea_'):
            g[k] = d[k]
    # UWSGI_SHAREDAREA is the variable uWSGI itself reads for one --sharedarea value
    spec = _sa._port.getenv('UWSGI_SHAREDAREA')  # (None on a board: no environment)
    if spec:
        configure([spec])


_setup()

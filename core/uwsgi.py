# uWSGI's `uwsgi` module, SharedArea part, for code running outside uWSGI (its unit tests, scripts):
# `import uwsgi` then finds these sharedarea_* names, on areas made from --sharedarea strings.
import sys

import sharedarea as _sa
from sharedarea import SharedAreaError  # noqa: F401 (re-exported for callers that catch it)

_me = sys.modules[__name__]


def configure(specs):
    # specs: a list of --sharedarea strings (or one string); they become ids 0, 1, ... in order, as
    # repeated --sharedarea options do. Areas made before are closed first, like a restarted uWSGI.
    if isinstance(specs, str):
        specs = [specs]
    areas = _sa._areas
    for a in areas:
        a.close()
    while areas:
        areas.pop()
    return [_sa.add(s) for s in specs]


def install(specs=None):
    # makes `import uwsgi` give this module; inside real uWSGI its own module stays and is returned
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
    getenv = getattr(_sa._port, 'getenv', None)  # the environment is the port's business
    spec = getenv('UWSGI_SHAREDAREA') if getenv else None
    if spec:
        configure([spec])


_setup()

# Runs the portable tests against areas kept in Redis: install(addr) makes sharedarea.add() turn every plain
# memory spec ("4", "size=N", "pages=N", a page count) into a redis= spec with a fresh key; others stay local.
import sharedarea

# the portable tests that are about local memory only, and why they do not apply to a Redis area
SKIP = {
    'test_memoryview_is_the_area': 'a redis area has no memoryview (it refuses it: test_redis_refuses_memoryview)',
    'test_small_int_ops_allocate_nothing': 'a redis area talks to a server: its ops allocate',
    'test_int_ops_allocate_nothing_32_and_64_bits': 'a redis area talks to a server: its ops allocate',
    'test_int_ops_allocate_nothing_on_a_buffer_area': 'allocation is checked on local areas (tools/mptest.py runs it)',
    'test_repr_names_id_size_and_kind': "a redis area's repr names its server and key (test_redis_spec checks it)",
    'test_configure_while_other_threads_use_areas': 'configure() makes local areas itself, not through add()',
    # 80,000 round trips each: too many for a loaded CI machine; test_redis_hosts counts exactly with fewer
    'test_threads_inc64_exact': '80,000 round trips; for Redis areas test_redis_hosts checks exact totals',
    'test_threads_mixed_widths_exact': '80,000 round trips; for Redis areas test_redis_hosts checks exact totals',
}

_state = {'add': None, 'addr': None, 'n': 0, 'prefix': None}


def _plain_size(spec):
    # the size of a plain memory spec that the local parser accepts, else None (and bad specs stay local,
    # so they fail with the local error)
    if type(spec) is int:
        return spec * sharedarea.PAGE_SIZE if spec > 0 else None
    if not isinstance(spec, str):
        return None
    from sharedarea.spec import parse
    try:
        kv = parse(spec, sharedarea.PAGE_SIZE)
    except ValueError:
        return None
    if [k for k in kv if k not in ('pages', 'size')]:
        return None
    return kv['size']


def spec_for(size, addr=None):
    # a redis= spec for a fresh key of size bytes
    from sharedarea.redis_area import _token
    if _state['prefix'] is None:
        _state['prefix'] = 'sa-test-' + _token()[:8]
    _state['n'] += 1
    return 'redis=%s,key=%s-%d,size=%d' % (addr or _state['addr'], _state['prefix'], _state['n'], size)


def _add(spec):
    n = _plain_size(spec)
    if n is None:
        return _state['add'](spec)
    return _state['add'](spec_for(n))


def install(addr):
    # from now on plain memory specs make Redis areas on the server at addr (HOST:PORT)
    if _state['add'] is None:
        _state['add'] = sharedarea.add
    _state['addr'] = addr
    sharedarea.add = _add


def uninstall():
    if _state['add'] is not None:
        sharedarea.add = _state['add']
        _state['add'] = None


def prepare(mod):
    # the module's local-only tests say why they are skipped
    from sa_testutil import skip
    for name in SKIP:
        if hasattr(mod, name):
            setattr(mod, name, _skipper(SKIP[name], skip))


def _skipper(why, skip):
    def f():
        skip(why)
    return f


def run(modname, addr):
    # on MicroPython: the portable module modname against Redis areas at addr, through mprun
    install(addr)
    mod = __import__(modname)
    prepare(mod)
    import mprun
    mprun.run(modname)

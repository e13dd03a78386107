# Runs a list of uwsgi.sharedarea_* calls and writes every outcome as JSON: inside real uWSGI
# (uwsgi --pyrun sa_calls.py) and in plain Python on the drop-in module (SA_SHIM=1), same code both ways.
# Plan (JSON file named by SA_PLAN): {"specs": [...], "steps": [[[name, args], ...], ...], "dump": true}.
import json
import os


def enc(v):
    # JSON for the values calls take and give: bytes-likes and str tagged, numbers and None as they are
    if isinstance(v, bytes):
        return {'b': v.hex()}
    if isinstance(v, bytearray):
        return {'ba': v.hex()}
    if isinstance(v, memoryview):
        return {'mv': v.tobytes().hex()}
    if isinstance(v, str):
        return {'s': v}
    if isinstance(v, (list, tuple)):
        return [enc(x) for x in v]
    if isinstance(v, dict):
        return {'d': {k: enc(x) for k, x in v.items()}}
    return v


def dec(v):
    if isinstance(v, list):
        return [dec(x) for x in v]
    if isinstance(v, dict):
        (k, x), = v.items()
        if k == 'b':
            return bytes.fromhex(x)
        if k == 'ba':
            return bytearray.fromhex(x)
        if k == 'mv':
            return memoryview(bytes.fromhex(x))
        if k == 's':
            return x
        return {a: dec(b) for a, b in x.items()}
    return v


def pseudo(u):
    # calls that are not one uwsgi function: memoryview use, and a write32 whose truncation is
    # observed and then undone (so the two areas stay equal)
    def mv_info(i):
        m = u.sharedarea_memoryview(i)
        return {'nbytes': m.nbytes, 'readonly': m.readonly, 'format': m.format, 'itemsize': m.itemsize,
                'ndim': m.ndim}

    def mv_set(i, pos, data):
        u.sharedarea_memoryview(i)[pos:pos + len(data)] = data

    def mv_get(i, pos, n):
        return bytes(u.sharedarea_memoryview(i)[pos:pos + n])

    def trunc_write32(i, pos, v):
        try:
            old = u.sharedarea_read(i, pos, 4)
        except ValueError:
            old = None
        r = u.sharedarea_write32(i, pos, v)
        after = u.sharedarea_read32(i, pos)
        u.sharedarea_write(i, pos, old)
        return [r, after]
    return {'mv_info': mv_info, 'mv_set': mv_set, 'mv_get': mv_get, 'trunc_write32': trunc_write32}


def run(u, plan):
    extra = pseudo(u)
    out = []
    for step in plan['steps']:
        res = []
        for name, args in step:
            fn = extra.get(name) or getattr(u, name)
            try:
                res.append({'ok': enc(fn(*dec(args)))})
            except Exception as e:
                res.append({'exc': type(e).__name__, 'msg': str(e)[:200]})
        out.append(res)
    dump = []
    if plan.get('dump'):
        for i in range(len(plan['specs'])):
            dump.append(enc(u.sharedarea_read(i, 0)))
    return {'steps': out, 'dump': dump}


def main():
    with open(os.environ['SA_PLAN']) as f:
        plan = json.load(f)
    if os.environ.get('SA_SHIM'):
        import sharedarea.uwsgi
        sharedarea.uwsgi.install(plan['specs'])
    import uwsgi
    result = run(uwsgi, plan)
    result['module'] = getattr(uwsgi, '__file__', 'built-in')
    with open(os.environ['SA_OUT'], 'w') as f:
        json.dump(result, f)


if __name__ == '__main__':
    main()

# CPython-only: the web half. sharedarea.ws send() and push() with exact bytes on microdot (served by CPython
# and by the MicroPython unix port), websockets and Starlette; await area.changed() woken by another process.
import asyncio
import multiprocessing
import os
import time

import pytest

import sharedarea
from sharedarea.ws import push, send, websocket_send_binary_from_sharedarea, websocket_send_from_sharedarea
from webutil import ROOT, Server, command, free_port

websockets = pytest.importorskip('websockets', reason='needs websockets (pip install .[web])')

SIZE = 70000  # as in ws_server.py
PATTERN = bytearray(i % 251 for i in range(SIZE))
PATTERN[1000:1013] = 'h\u00e9llo w\u00f6rld'.encode()
PATTERN[2000:2005] = b'ab\xffcd'
PATTERN = bytes(PATTERN)
SERVER = os.path.join(ROOT, 'tests', 'cpython', 'ws_server.py')


def _area():
    a = sharedarea.get(sharedarea.add('size=%d' % SIZE))
    a.write(0, PATTERN)
    return a


# ---------------------------------------------------------------- the awaitable, across processes

def _write_after(a, seconds):
    time.sleep(seconds)
    a.write8(0, 1)


def test_changed_wakes_for_a_write_by_another_process():
    a = sharedarea.get(sharedarea.add(1))
    n0 = a.updates

    async def main():
        p = multiprocessing.get_context('fork').Process(target=_write_after, args=(a, 0.2))
        p.start()
        t0 = time.monotonic()
        try:
            return await a.changed(timeout=5), time.monotonic() - t0
        finally:
            p.join()
    n, dt = asyncio.run(main())
    assert n == n0 + 1 and 0.15 < dt < 1.0, (n, dt)
    a.close()


def test_changed_wakes_for_a_file_area_written_by_another_process(tmp_path):
    spec = 'file=%s,size=64' % (tmp_path / 'area')
    a = sharedarea.get(sharedarea.add(spec))

    def writer():
        b = sharedarea.get(sharedarea.add(spec))  # its own mapping of the file
        time.sleep(0.2)
        b.write8(0, 1)

    async def main():
        p = multiprocessing.get_context('fork').Process(target=writer)
        p.start()
        t0 = time.monotonic()
        try:
            return await a.changed(timeout=5), time.monotonic() - t0
        finally:
            p.join()
    n, dt = asyncio.run(main())
    assert n and 0.15 < dt < 1.0, (n, dt)
    a.close()


# ---------------------------------------------------------------- microdot, on CPython and on MicroPython

@pytest.fixture(scope='module', params=['cpython', 'micropython'])
def microdot_server(request):
    pytest.importorskip('microdot', reason='needs microdot (pip install .[web])')
    port = free_port()
    argv, env = command(request.param, SERVER, str(port))
    with Server(argv, env) as s:
        s.port = port
        yield s


async def _one(port, path):
    async with websockets.connect('ws://127.0.0.1:%d%s' % (port, path), max_size=None) as c:
        return await asyncio.wait_for(c.recv(), 10)


@pytest.mark.parametrize('pos,length,how,want', [
    (5, 10, 0, PATTERN[5:15]),  # binary, from pos (uWSGI sends from byte 0)
    (69990, 0, 0, PATTERN[69990:]),  # length 0: to the end
    (0, 300, 0, PATTERN[:300]),  # a 2-byte length in the frame
    (0, 0, 0, PATTERN),  # an 8-byte length
    (SIZE - 1, 1, 0, PATTERN[-1:]),
    (1000, 13, 1, 'h\u00e9llo w\u00f6rld'),  # a text message
    (1000, 13, 2, 'h\u00e9llo w\u00f6rld'),  # uWSGI's name for text
    (1000, 13, 3, 'h\u00e9llo w\u00f6rld'.encode()),  # uWSGI's name for binary
])
def test_microdot_send_exact_bytes(microdot_server, pos, length, how, want):
    got = asyncio.run(_one(microdot_server.port, '/send/%d/%d/%d' % (pos, length, how)))
    assert type(got) is type(want) and got == want


@pytest.mark.parametrize('pos,length,how,error', [
    (2000, 5, 1, 'SharedAreaError: sharedarea 0: the 5 bytes from pos 2000 are not valid UTF-8'),
    (1999, 3, 2, 'SharedAreaError: sharedarea 0: the 3 bytes from pos 1999 are not valid UTF-8'),
    (SIZE, 0, 0, 'SharedAreaError'),
    (-1, 0, 0, 'SharedAreaError'),
    (SIZE - 2, 3, 0, 'SharedAreaError'),
])
def test_microdot_send_refuses_what_it_cannot_send(microdot_server, pos, length, how, error):
    got = asyncio.run(_one(microdot_server.port, '/send/%d/%d/%d' % (pos, length, how)))
    assert isinstance(got, str) and got.startswith('ERR ' + error), got


def test_microdot_push_sends_each_update_and_returns_when_the_client_leaves(microdot_server):
    async def main():
        async with websockets.connect('ws://127.0.0.1:%d/push' % microdot_server.port) as c:
            first = await asyncio.wait_for(c.recv(), 10)
            got = []
            for k in range(5):
                await c.send('3 v%d' % k)  # the server writes it into the area; push sends the update
                got.append(await asyncio.wait_for(c.recv(), 10))
            return first, got
    before = sum('push returned' in ln for ln in microdot_server.lines)
    first, got = asyncio.run(main())
    assert first == PATTERN[:16] or first[:3] == PATTERN[:3]  # (the area as an earlier test left it)
    for k, m in enumerate(got):
        assert m == first[:3] + b'v%d' % k + first[5:16]
    t0 = time.monotonic()
    while sum('push returned' in ln for ln in microdot_server.lines) == before:
        assert time.monotonic() - t0 < 2, 'push did not return after the client left'
        time.sleep(0.02)


# ---------------------------------------------------------------- websockets

async def _serve(handler, client):
    # runs a websockets server with handler(ws) and client(port); returns (handler's result, client's)
    from websockets.asyncio.server import serve
    out = {}

    async def wrapped(ws):
        try:
            out['handler'] = await handler(ws)
        except Exception as e:
            out['handler'] = e
    async with serve(wrapped, '127.0.0.1', 0) as srv:
        port = srv.sockets[0].getsockname()[1]
        got = await client(port)
        for _ in range(200):
            if 'handler' in out:
                break
            await asyncio.sleep(0.01)
    return out.get('handler'), got


def test_websockets_send_exact_bytes():
    a = _area()

    async def handler(ws):
        await send(ws, a, 5, 10)
        await send(ws, a, SIZE - 3)
        await send(ws, a, 1000, 13, text=True)
        await websocket_send_from_sharedarea(ws, a.id, 1000, 6)
        await websocket_send_binary_from_sharedarea(ws, a.id, 1000, 1)
        await send(ws, a, 2000, 5, text=True)

    async def client(port):
        async with websockets.connect('ws://127.0.0.1:%d' % port, max_size=None) as c:
            return [await c.recv() for _ in range(5)]
    err, got = asyncio.run(_serve(handler, client))
    assert got == [PATTERN[5:15], PATTERN[-3:], 'h\u00e9llo w\u00f6rld', 'h\u00e9llo', b'h']
    assert isinstance(err, sharedarea.SharedAreaError) and 'pos 2000 are not valid UTF-8' in str(err), err
    a.close()


def test_websockets_push_sends_each_write_and_returns_when_the_client_leaves():
    a = _area()
    seen = []

    async def handler(ws):
        await push(ws, a, 0, 8, on_message=seen.append)
        return 'returned'

    async def client(port):
        async with websockets.connect('ws://127.0.0.1:%d' % port) as c:
            got = [await c.recv()]
            for k in range(5):
                a.write(2, b'%d' % k)  # the test writes; each write reaches the client
                got.append(await asyncio.wait_for(c.recv(), 5))
            await c.send('hi')
            await c.send(b'\x01')
            await asyncio.sleep(0.1)
            return got
    res, got = asyncio.run(_serve(handler, client))
    assert got == [PATTERN[:8]] + [PATTERN[:2] + b'%d' % k + PATTERN[3:8] for k in range(5)]
    assert res == 'returned' and seen == ['hi', b'\x01']
    a.close()


def test_push_raises_when_the_area_is_closed_under_it():
    a = _area()

    async def handler(ws):
        asyncio.get_running_loop().call_later(0.1, a.close)
        await push(ws, a, 0, 4)

    async def client(port):
        async with websockets.connect('ws://127.0.0.1:%d' % port) as c:
            await c.recv()
            try:
                await asyncio.wait_for(c.recv(), 2)
            except Exception:
                pass
    err, _ = asyncio.run(_serve(handler, client))
    assert isinstance(err, sharedarea.SharedAreaError) and 'closed' in str(err), err


def test_the_web_names_load_on_first_use():
    import subprocess
    import sys
    code = ('import sys, sharedarea; assert "asyncio" not in sys.modules and "sharedarea.ws" not in sys.modules; '
            'f = sharedarea.websocket_send_binary_from_sharedarea; import sharedarea.ws as w; '
            'assert f is w.websocket_send_binary_from_sharedarea and sharedarea.ws is w; print("ok")')
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == 'ok', r.stderr
    with pytest.raises(AttributeError, match='no attribute'):
        sharedarea.websocket_nothing


def test_send_refuses_an_unknown_connection():
    a = _area()
    with pytest.raises(TypeError, match='microdot, websockets or Starlette'):
        asyncio.run(send(object(), a))
    a.close()


# ---------------------------------------------------------------- Starlette (ASGI)

def test_starlette_send_and_push():
    pytest.importorskip('starlette', reason='needs starlette and httpx2 (pip install .[webtest])')
    pytest.importorskip('httpx2', reason='needs httpx2 (pip install .[webtest])')
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute
    from starlette.testclient import TestClient
    a = _area()
    out = {}

    async def endpoint(ws):
        await ws.accept()
        await send(ws, a, 5, 10)
        await send(ws, a, 1000, 13, text=True)
        try:
            await send(ws, a, 2000, 5, text=True)
        except sharedarea.SharedAreaError as e:
            out['error'] = str(e)
        await push(ws, a, 0, 4, on_message=lambda m: a.write(0, m))
        out['returned'] = True

    app = Starlette(routes=[WebSocketRoute('/ws', endpoint)])
    with TestClient(app) as tc:
        with tc.websocket_connect('/ws') as ws:
            assert ws.receive() == {'type': 'websocket.send', 'bytes': PATTERN[5:15]}
            assert ws.receive() == {'type': 'websocket.send', 'text': 'h\u00e9llo w\u00f6rld'}
            assert ws.receive_bytes() == PATTERN[:4]
            ws.send_text('ab')
            assert ws.receive_bytes() == b'ab' + PATTERN[2:4]
            a.write(2, b'cd')  # a write from this thread reaches the client too
            assert ws.receive_bytes() == b'abcd'
        t0 = time.monotonic()
        while not out.get('returned'):
            assert time.monotonic() - t0 < 2, 'push did not return after the client left'
            time.sleep(0.01)
    assert 'pos 2000 are not valid UTF-8' in out['error']
    a.close()

# sharedarea.ws: an area's bytes as WebSocket messages, once (send) or after every update (push), on a
# microdot connection (CPython and MicroPython), a websockets one or a Starlette/ASGI one (CPython).
import asyncio

from .aio import Changes
from .area import SharedAreaError

try:
    memoryview
    import micropython  # noqa: F401 (MicroPython: frames are built in a buffer kept with the connection)
    _REUSE = True
except (ImportError, NameError):
    _REUSE = False

_TEXT = 1  # WebSocket opcodes
_BINARY = 2
_ROOM = 10  # the longest server frame header: the payload sits after it in a reused buffer


def _kind(ws):
    # which library's connection ws is, by what it has (no web library is imported here)
    if hasattr(ws, 'send_bytes'):
        return 'asgi'  # Starlette, FastAPI
    if hasattr(ws, '_encode_websocket_frame'):
        return 'microdot'
    if hasattr(ws, 'recv') and hasattr(ws, 'send'):
        return 'websockets'
    raise TypeError('sharedarea.ws sends on a microdot, websockets or Starlette/ASGI WebSocket, not %s'
                    % type(ws).__name__)


def _utf8(area, pos, data):
    # text frames must hold valid UTF-8: the str, or a clear error
    try:
        return str(data, 'utf-8')
    except UnicodeError as e:
        raise SharedAreaError('sharedarea %d: the %d bytes from pos %d are not valid UTF-8%s, so they cannot go '
                              'as a text message: send them binary (text=False)' % (
                                  area.id, len(data), pos, ' (%s)' % e if str(e) else ''))


def _header(buf, end, op, n):
    # writes a server frame header (FIN, op, length n, no mask) into buf so that it ends at end; returns
    # where it starts
    if n < 126:
        h = end - 2
        buf[h + 1] = n
    elif n < 65536:
        h = end - 4
        buf[h + 1] = 126
        buf[h + 2] = n >> 8
        buf[h + 3] = n & 255
    else:
        h = end - 10
        buf[h + 1] = 127
        for i in range(8):
            buf[h + 2 + i] = (n >> (56 - 8 * i)) & 255
    buf[h] = 0x80 | op
    return h


def _frame(ws, area, pos, length, text):
    # MicroPython: the payload is copied under the read lock (readfast) into a buffer kept with the
    # connection, behind room for the header; returns (buffer, start, size) of the frame in it
    size = area.size
    if type(pos) is not int or not 0 <= pos < size or type(length) is not int or length < 0:
        area.read(pos, length)  # raises the core's error for these
    n = length or size - pos
    mv = getattr(ws, '_sa_frame', None)
    if mv is None or len(mv) < _ROOM + n:
        mv = ws._sa_frame = memoryview(bytearray(_ROOM + n))
    area.readfast(pos, mv[_ROOM:_ROOM + n], n)
    if text:
        _utf8(area, pos, mv[_ROOM:_ROOM + n])
    h = _header(mv, _ROOM, _TEXT if text else _BINARY, n)
    return mv, h, _ROOM - h + n


async def send(ws, area, pos=0, length=0, text=False):
    """Sends the area's bytes from pos (length 0: to the end) as one binary message, or text (UTF-8)."""
    kind = _kind(ws)
    if kind == 'microdot' and _REUSE:
        mv, h, n = _frame(ws, area, pos, length, text)
        return await ws.request.sock[1].awrite(mv, h, n)  # (one write, no new buffer per message)
    # a copy made under the read lock: a transport may queue the very object it is given, to send later
    data = area.read(pos, length)
    if text:
        s = _utf8(area, pos, data)
    if kind == 'microdot':
        hdr = bytearray(_ROOM)
        h = _header(hdr, _ROOM, _TEXT if text else _BINARY, len(data))
        await ws.request.sock[1].awrite(bytes(hdr[h:]) + data)
    elif kind == 'websockets':
        await ws.send(s if text else data)
    else:
        await (ws.send_text(s) if text else ws.send_bytes(data))


async def _receive(ws, kind):
    # the client's next message (str or bytes), or None once it has left
    try:
        if kind == 'asgi':
            m = await ws.receive()
            if m.get('type') == 'websocket.disconnect':
                return None
            return m['text'] if m.get('text') is not None else m.get('bytes')
        return await (ws.recv() if kind == 'websockets' else ws.receive())
    except OSError:
        return None  # the connection broke
    except Exception as e:
        if type(e).__name__ in ('WebSocketError', 'ConnectionClosed', 'ConnectionClosedOK',
                                'ConnectionClosedError', 'WebSocketDisconnect'):
            return None  # microdot's, websockets' and Starlette's word for a client that has left
        raise


async def push(ws, area, pos=0, length=0, text=False, on_message=None):
    """Sends now and after every update until the client leaves; its messages go to on_message(msg)."""
    kind = _kind(ws)
    n = area.updates
    await send(ws, area, pos, length, text)  # errors in the arguments are raised here, at once
    me = asyncio.current_task()
    failed = []

    async def sender(n):
        # reads the count before each send, so an update during a send brings another send
        changes = Changes(area)
        try:
            while True:
                n = await changes.after(n)
                await send(ws, area, pos, length, text)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            failed.append(e)
            me.cancel()  # the reader below is waiting for the client: stop it
        finally:
            changes.close()

    task = asyncio.create_task(sender(n))
    try:
        while True:
            msg = await _receive(ws, kind)
            if msg is None:
                return
            if on_message is not None:
                r = on_message(msg)
                if r is not None and hasattr(r, 'send'):  # a coroutine: await it
                    await r
    except asyncio.CancelledError:
        if not failed:
            raise
        if hasattr(me, 'uncancel'):
            me.uncancel()  # (CPython 3.11+: this task was cancelled by push itself)
        e = failed[0]
        if isinstance(e, (ValueError, TypeError)):
            raise e  # the area's fault (closed, not UTF-8): say so
        # anything else came from the connection while sending: the client has left
    finally:
        task.cancel()


async def websocket_send_from_sharedarea(ws, id, pos, length=0):
    """uWSGI's name: a text message from area id's bytes at pos (ws comes first here)."""
    from . import get
    await send(ws, get(id), pos, length, True)


async def websocket_send_binary_from_sharedarea(ws, id, pos, length=0):
    """uWSGI's name: a binary message from area id's bytes at pos (ws comes first here)."""
    from . import get
    await send(ws, get(id), pos, length, False)

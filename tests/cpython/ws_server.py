# A microdot server over one area for the web tests, run by CPython or the MicroPython unix port:
#   /send/POS/LENGTH/HOW   one send (HOW 0 binary, 1 text, 2 and 3 uWSGI's text and binary names); an
#                          error goes to the client as a text message "ERR Type: message"
#   /push                  push(bytes 0..15); the client's "POS TEXT" messages are written into the area
# Usage: ws_server.py PORT. It prints "ready" once it listens, and "push returned" after each push.
import sys

import sharedarea
from microdot import Microdot
from microdot.websocket import with_websocket
from sharedarea.ws import push, send, websocket_send_binary_from_sharedarea, websocket_send_from_sharedarea

SIZE = 70000  # long enough for the 8-byte length form of a frame
area = sharedarea.get(sharedarea.add('size=%d' % SIZE))
area.write(0, bytes([i % 251 for i in range(SIZE)]))
area.write(1000, 'h\u00e9llo w\u00f6rld'.encode())
area.write(2000, b'ab\xffcd')  # not UTF-8
app = Microdot()


@app.route('/send/<int:pos>/<int:length>/<int:how>')
@with_websocket
async def one(request, ws, pos, length, how):
    try:
        if how == 2:
            await websocket_send_from_sharedarea(ws, area.id, pos, length)
        elif how == 3:
            await websocket_send_binary_from_sharedarea(ws, area.id, pos, length)
        else:
            await send(ws, area, pos, length, how == 1)
    except Exception as e:
        await ws.send('ERR %s: %s' % (type(e).__name__, e))
    await ws.receive()  # until the client closes


@app.route('/push')
@with_websocket
async def live(request, ws):
    def write(m):
        p, d = m.split(' ', 1)
        area.write(int(p), d)
    await push(ws, area, 0, 16, on_message=write)
    say('push returned')


def say(text):
    print(text)
    if hasattr(sys.stdout, 'flush'):
        sys.stdout.flush()


async def main(port):
    import asyncio
    task = asyncio.create_task(app.start_server(host='127.0.0.1', port=port))
    await asyncio.sleep(0.2)
    say('ready')
    await task


if __name__ == '__main__':
    import asyncio
    asyncio.run(main(int(sys.argv[1])))

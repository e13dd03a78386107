# The live dashboard: workers update one area (counters, simulated sensors, a message slot) and a microdot
# app shows it in a browser over a WebSocket, with a chart and controls that write back into the area.
# The same file runs on CPython (worker processes) and MicroPython (worker threads): `make web-demo [MP=1]`.
#
#   python examples/dashboard.py [--host H] [--port N] [--workers N] [--rate HZ] [--area SPEC]
#   micropython examples/dashboard.py ...   (sharedarea and microdot on its path; see docs/web.md)
import math
import sys
import time

import sharedarea
from microdot import Microdot
from microdot.websocket import with_websocket
from sharedarea.ws import push

MP = sys.implementation.name == 'micropython'

# the area's layout (little-endian), as the page reads it
COUNTERS = 0  # 4 x i32: one counter per worker
TEMP = 16  # i32, hundredths of a degree C; it follows the setpoint
HUMIDITY = 20  # i32, hundredths of a percent
LIGHT = 24  # i32, lux
SETPOINT = 28  # i32, hundredths of a degree: the page's slider writes it
CLICKS = 32  # i32: the page's button adds one
STAMP = 40  # i64, microseconds since the epoch: written by tests and the bench, the page shows the latency
MSG = 48  # 64 bytes: a message (UTF-8, NUL-padded); workers and the page write it
MSG_LEN = 64
SIZE = MSG + MSG_LEN  # what the page is sent

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>sharedarea dashboard</title>
<style>
body{font:15px system-ui,sans-serif;margin:1.5em;max-width:44em;color:#222}
table{border-collapse:collapse}td{padding:2px 12px 2px 0}td.v{font:600 15px ui-monospace,monospace}
#state{color:#888}canvas{border:1px solid #ccc;margin:.8em 0}
</style></head><body>
<h2>sharedarea dashboard</h2>
<p id="state">connecting...</p>
<table>
<tr><td>workers' counters</td><td class="v" id="counters">-</td></tr>
<tr><td>temperature</td><td class="v"><span id="temp">-</span> &deg;C</td></tr>
<tr><td>humidity</td><td class="v"><span id="humidity">-</span> %%</td></tr>
<tr><td>light</td><td class="v"><span id="light">-</span> lux</td></tr>
<tr><td>setpoint</td><td class="v"><span id="setpoint">-</span> &deg;C</td></tr>
<tr><td>button clicks</td><td class="v" id="clicks">-</td></tr>
<tr><td>message</td><td class="v" id="msg">-</td></tr>
<tr><td>stamp latency</td><td class="v"><span id="latency">-</span> ms</td></tr>
<tr><td>messages</td><td class="v" id="messages">0</td></tr>
</table>
<canvas id="chart" width="600" height="160"></canvas>
<p><label>setpoint <input id="slider" type="range" min="1000" max="3000" step="10" value="2000"></label>
<button id="click">click</button>
<input id="text" maxlength="60" placeholder="a message"><button id="send">send</button></p>
<script>
const $=id=>document.getElementById(id);
const hist=[],sets=[],N=150;
window.saLat=[];let last=0n,n=0,ws;
function draw(){const c=$('chart'),g=c.getContext('2d'),w=c.width,h=c.height;g.clearRect(0,0,w,h);
 const lo=900,hi=3100,y=v=>h-(v-lo)/(hi-lo)*h;
 [[sets,'#bbb'],[hist,'#c33']].forEach(([a,col])=>{g.strokeStyle=col;g.beginPath();
  a.forEach((v,i)=>{const x=i*w/(N-1);i?g.lineTo(x,y(v)):g.moveTo(x,y(v));});g.stroke();});}
function show(buf){const d=new DataView(buf),i=o=>d.getInt32(o,true);
 const t=performance.timeOrigin+performance.now();n++;
 const st=d.getBigInt64(%(STAMP)d,true);
 if(st!==last){last=st;if(st>0n){const ms=t-Number(st)/1000;window.saLat.push(ms);$('latency').textContent=ms.toFixed(2);}}
 $('counters').textContent=[0,1,2,3].map(k=>i(%(COUNTERS)d+4*k)).join(' ');
 $('temp').textContent=(i(%(TEMP)d)/100).toFixed(2);$('humidity').textContent=(i(%(HUMIDITY)d)/100).toFixed(1);
 $('light').textContent=i(%(LIGHT)d);$('setpoint').textContent=(i(%(SETPOINT)d)/100).toFixed(2);
 $('clicks').textContent=i(%(CLICKS)d);$('messages').textContent=n;
 const m=new Uint8Array(buf,%(MSG)d,%(MSG_LEN)d),z=m.indexOf(0);
 $('msg').textContent=new TextDecoder().decode(z<0?m:m.subarray(0,z));
 hist.push(i(%(TEMP)d));sets.push(i(%(SETPOINT)d));if(hist.length>N){hist.shift();sets.shift();}draw();}
function connect(){ws=new WebSocket((location.protocol=='https:'?'wss://':'ws://')+location.host+'/ws');
 ws.binaryType='arraybuffer';
 ws.onopen=()=>{$('state').textContent='live';document.body.dataset.live='1';};
 ws.onmessage=e=>show(e.data);
 ws.onclose=()=>{$('state').textContent='disconnected, retrying...';document.body.dataset.live='';setTimeout(connect,1000);};}
$('slider').oninput=e=>ws.send('set '+e.target.value);
$('click').onclick=()=>ws.send('click');
$('send').onclick=()=>ws.send('msg '+$('text').value);
connect();
</script></body></html>
""" % {'STAMP': STAMP, 'COUNTERS': COUNTERS, 'TEMP': TEMP, 'HUMIDITY': HUMIDITY, 'LIGHT': LIGHT,
       'SETPOINT': SETPOINT, 'CLICKS': CLICKS, 'MSG': MSG, 'MSG_LEN': MSG_LEN}


def write_msg(area, text):
    # the slot as one write: the page never sees half of it
    b = text.encode()[:MSG_LEN]
    area.write(MSG, b + bytes(MSG_LEN - len(b)))


def command(area, m):
    # what the page sends: "set 2150" (slider), "click" (button), "msg TEXT"
    if isinstance(m, bytes):
        m = m.decode()
    if m.startswith('set '):
        area.write32(SETPOINT, int(m[4:]))
    elif m == 'click':
        area.inc32(CLICKS)
    elif m.startswith('msg '):
        write_msg(area, m[4:])


def make_app(area, on_message=None):
    app = Microdot()

    @app.route('/')
    async def index(request):
        return PAGE, 200, {'Content-Type': 'text/html; charset=utf-8'}

    @app.route('/ws')
    @with_websocket
    async def live(request, ws):
        await push(ws, area, 0, SIZE, on_message=on_message or (lambda m: command(area, m)))

    return app


def sleep(s):
    if MP:
        time.sleep_ms(int(s * 1000))
    else:
        time.sleep(s)


def worker(area, k, rate, alive=None):
    # worker 0 simulates the sensors (the temperature follows the setpoint); every worker counts its ticks
    # and now and then leaves a message; it stops when alive() says so
    t = 0
    seed = 12345 + k
    while alive is None or alive():
        t += 1
        area.inc32(COUNTERS + 4 * k)
        if k == 0:
            seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF  # a small LCG: the same noise on both runtimes
            noise = (seed % 41) - 20
            with area.wlock():  # the sensors change together
                temp = area.read32(TEMP)
                area.write32(TEMP, temp + (area.read32(SETPOINT) - temp) // 8 + noise)
                area.write32(HUMIDITY, int(4500 + 1500 * math.sin(t / 30)))
                area.write32(LIGHT, int(300 + 250 * math.sin(t / 50)))
        if t % (int(rate) * 5 or 1) == k:
            write_msg(area, 'worker %d: tick %d' % (k, t))
        sleep(1 / rate)


def start_workers(area, n, rate):
    if MP:
        import _thread
        for k in range(n):
            _thread.start_new_thread(worker, (area, k, rate))
        return []
    import multiprocessing
    import os
    import signal
    # SIGTERM ends the server as Ctrl-C does, so that multiprocessing ends the (daemon) workers
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    procs = [multiprocessing.Process(target=process_worker, args=(area, k, rate, os.getpid()), daemon=True)
             for k in range(n)]
    for p in procs:
        p.start()
    return procs


def process_worker(area, k, rate, parent):
    # CPython: a worker process that also stops when its parent is gone (killed, say)
    import os
    worker(area, k, rate, lambda: os.getppid() == parent)


def options(argv):
    # a board (no OS underneath) listens on every interface: it is reached over its network
    host = '127.0.0.1' if sys.platform in ('linux', 'darwin', 'win32') else '0.0.0.0'
    o = {'--host': host, '--port': '8000', '--workers': '2', '--rate': '10', '--area': 'size=%d' % SIZE}
    i = 0
    while i < len(argv):
        if argv[i] not in o or i + 1 >= len(argv):
            raise SystemExit('usage: dashboard.py [--host H] [--port N] [--workers N (0-4)] [--rate HZ] [--area SPEC]')
        o[argv[i]] = argv[i + 1]
        i += 2
    return o


def my_address():
    # where a browser finds us: a board's Wi-Fi address, else this machine
    try:
        import network
        return network.WLAN(network.STA_IF).ifconfig()[0]
    except (ImportError, AttributeError, OSError):
        return '127.0.0.1'


def main(argv):
    o = options(argv)
    area = sharedarea.get(sharedarea.add(o['--area']))
    if area.read32(SETPOINT) == 0:
        area.write32(SETPOINT, 2000)
        area.write32(TEMP, 1800)
    workers = min(int(o['--workers']), 4)
    start_workers(area, workers, float(o['--rate']))
    app = make_app(area)
    host = o['--host']
    print('dashboard: http://%s:%s/ (%s, %d worker %s; Ctrl-C stops)' % (
        my_address() if host == '0.0.0.0' else host, o['--port'], sys.implementation.name, workers,
        'threads' if MP else 'processes'))
    if hasattr(sys.stdout, 'flush'):
        sys.stdout.flush()  # (a test or a pipe waits for this line)
    try:
        app.run(host=host, port=int(o['--port']))
    except KeyboardInterrupt:
        pass


if __name__ == '__main__':
    main(sys.argv[1:])

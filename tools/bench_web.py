# `make bench` (web row): how long a write into an area takes to reach a WebSocket client through microdot and
# sharedarea.ws.push, on CPython and on the MicroPython unix port, and to reach a browser (timed in the page).
# Usage: python tools/bench_web.py [--n N] [--json PATH]. Prints a table; needs microdot and websockets.
import argparse
import asyncio
import json
import multiprocessing
import os
import random
import statistics
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, 'tools'), os.path.join(ROOT, 'examples')]
import dashboard as D  # noqa: E402 (the area's layout and the page)
import stage  # noqa: E402

import sharedarea  # noqa: E402

CHROMIUM = '/usr/lib/chromium/chromium'
CHROMIUM_ARGS = ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync', '--no-first-run']


def now_us():
    return time.time_ns() // 1000


def stamp(m):
    return struct.unpack_from('<q', m, D.STAMP)[0]


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))]


def free_port():
    import socket
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Proc:
    # a server process, waited for until it prints `ready`, stopped with its process group
    def __init__(self, argv, env, ready):
        self.p = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, start_new_session=True)
        out = []
        for ln in self.p.stdout:
            out.append(ln)
            if ready in ln:
                break
        else:
            raise RuntimeError('the server did not start:\n' + ''.join(out))
        time.sleep(0.3)  # (microdot listens a moment after the line)

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(5)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        try:
            os.killpg(self.p.pid, 9)
        except ProcessLookupError:
            pass


def cpython_dashboard(path, port):
    env = dict(os.environ)
    return Proc([sys.executable, '-u', os.path.join(ROOT, 'examples', 'dashboard.py'), '--port', str(port),
                 '--workers', '0', '--area', 'file=%s,size=%d' % (path, D.SIZE)], env, 'dashboard: http')


def writer_process(spec, seconds):
    # another process writes stamps as fast as it can (0.1 ms apart) for a while
    a = sharedarea.get(sharedarea.add(spec))
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        a.write64(D.STAMP, now_us())
        time.sleep(0.0001)


async def count_messages(c, seconds):
    n, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            await asyncio.wait_for(c.recv(), max(0.001, end - time.monotonic()))
            n += 1
        except asyncio.TimeoutError:
            break
    return n / seconds


async def cpython_run(port, spec, n):
    # the writer is this process (another process than the server's): write a stamp, wait for its frame
    import websockets
    a = sharedarea.get(sharedarea.add(spec))
    lat = []
    async with websockets.connect('ws://127.0.0.1:%d/ws' % port, max_queue=None) as c:
        await c.recv()
        for i in range(n):
            t = now_us()
            a.write64(D.STAMP, t)
            while stamp(await c.recv()) != t:
                pass
            lat.append((now_us() - t) / 1000)
            await asyncio.sleep(random.uniform(0.0005, 0.002))
        p = multiprocessing.get_context('fork').Process(target=writer_process, args=(spec, 2.5))
        p.start()
        await asyncio.sleep(0.2)
        rate = await count_messages(c, 2)
        p.join()
    a.close()
    return lat, rate


async def micropython_run(port, n):
    # the writer is a thread of the MicroPython server: it writes the next stamp when told "ack"
    import websockets
    lat = []
    async with websockets.connect('ws://127.0.0.1:%d/ws' % port, max_queue=None) as c:
        await c.recv()
        await c.send('mode ack')
        last = None
        for i in range(n + 1):
            while True:
                m = await c.recv()
                s = stamp(m)
                if s and s != last:
                    break
            if last is not None:
                lat.append((now_us() - s) / 1000)
            last = s
            await asyncio.sleep(random.uniform(0.0005, 0.002))
            await c.send('ack')
        await c.send('mode free')
        await asyncio.sleep(0.2)
        rate = await count_messages(c, 2)
        await c.send('mode stop')
    return lat, rate


def browser_run(url, spec, n):
    # stamps every 20 ms; the page works out each one's latency when its frame arrives (window.saLat)
    from playwright.sync_api import sync_playwright
    a = sharedarea.get(sharedarea.add(spec))
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = b.new_page()
            page.goto(url)
            page.wait_for_selector('body[data-live="1"]', timeout=10000)
            for _ in range(n):
                a.write64(D.STAMP, now_us())
                time.sleep(0.02)
            time.sleep(0.2)
            lat = page.evaluate('window.saLat')
        finally:
            b.close()
    a.close()
    return lat


def row(name, writer, lat, rate):
    return {'server': name, 'writer': writer, 'n': len(lat), 'p50_ms': statistics.median(lat) if lat else None,
            'p99_ms': pct(lat, 99) if lat else None, 'messages_per_s': rate}


def main(argv):
    ap = argparse.ArgumentParser(description='write-to-client latency through microdot and sharedarea.ws')
    ap.add_argument('--n', type=int, default=500, help='stamps per measurement')
    ap.add_argument('--json', help='write the rows here too')
    args = ap.parse_args(argv)
    rows = []
    tmp = tempfile.mkdtemp()
    spec = 'file=%s,size=%d' % (os.path.join(tmp, 'area'), D.SIZE)
    port = free_port()
    srv = cpython_dashboard(os.path.join(tmp, 'area'), port)
    try:
        lat, rate = asyncio.run(cpython_run(port, spec, args.n))
        rows.append(row('microdot, CPython %d.%d' % sys.version_info[:2], 'another process', lat, rate))
        if os.path.exists(CHROMIUM):
            try:
                lat = browser_run('http://127.0.0.1:%d/' % port, spec, min(args.n, 300))
                rows.append(row('Chromium page, CPython server', 'another process', lat, None))
            except ImportError:
                print('browser row skipped: needs Playwright (pip install .[webtest])')
        else:
            print('browser row skipped: needs Chromium at %s (apt-get install chromium)' % CHROMIUM)
    finally:
        srv.stop()
    exe = os.environ.get('MICROPYTHON') or os.path.join(os.path.dirname(sys.executable), 'micropython')
    if os.path.exists(exe):
        dest = stage.stage(os.path.join(ROOT, 'build', 'mp-web'), web=True)
        env = dict(os.environ, MICROPYPATH=os.pathsep.join([dest, os.path.join(ROOT, 'examples'), '.frozen']))
        port = free_port()
        srv = Proc([exe, '-X', 'heapsize=8M', os.path.join(ROOT, 'tools', 'bench_web_server.py'), str(port)], env,
                   'ready')
        try:
            lat, rate = asyncio.run(micropython_run(port, args.n))
            rows.append(row('microdot, MicroPython %s unix port' % mp_version(exe), 'a thread', lat, rate))
        finally:
            srv.stop()
    else:
        print('MicroPython row skipped: no unix port at %s' % exe)
    print()
    print('write-to-client latency through sharedarea.ws.push (%d stamps each; %d cores)' % (args.n, os.cpu_count()))
    print('%-40s %-16s %9s %9s %12s' % ('server', 'writer', 'p50 ms', 'p99 ms', 'messages/s'))
    for r in rows:
        print('%-40s %-16s %9.3f %9.3f %12s' % (r['server'], r['writer'], r['p50_ms'], r['p99_ms'],
                                                '%.0f' % r['messages_per_s'] if r['messages_per_s'] else '-'))
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, 'w') as f:
            json.dump(rows, f, indent=1)
    return 0


def mp_version(exe):
    out = subprocess.run([exe, '-c', 'import sys; print("%d.%d.%d" % sys.implementation.version[:3])'],
                         capture_output=True, text=True).stdout.strip()
    return out or '?'


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

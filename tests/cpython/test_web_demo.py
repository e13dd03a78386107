# CPython-only: the dashboard (examples/dashboard.py) end to end. Its server on a free loopback port (CPython,
# and the MicroPython unix port), values written into its area reach a websockets client one by one; and a
# real browser (headless Chromium through Playwright) shows them and writes back through its controls.
import asyncio
import os
import struct
import sys
import time

import pytest

import sharedarea
from webutil import ROOT, Server, command, free_port

websockets = pytest.importorskip('websockets', reason='needs websockets (pip install .[web])')
pytest.importorskip('microdot', reason='needs microdot (pip install .[web])')
sys.path.insert(0, os.path.join(ROOT, 'examples'))
import dashboard as D  # noqa: E402 (the layout: SETPOINT, STAMP, ...)

DASHBOARD = os.path.join(ROOT, 'examples', 'dashboard.py')
CHROMIUM = '/usr/lib/chromium/chromium'  # Debian's chromium; Playwright never downloads a browser here
CHROMIUM_ARGS = ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync', '--no-first-run']


def dashboard(runtime, tmp_path=None, workers=2):
    port = free_port()
    args = ['--port', str(port), '--workers', str(workers)]
    if tmp_path is not None:  # a file area: the test maps it too, and writes into it
        args += ['--area', 'file=%s,size=%d' % (tmp_path / 'area', D.SIZE)]
    argv, env = command(runtime, DASHBOARD, *args)
    s = Server(argv, env, ready='dashboard: http://127.0.0.1:%d/' % port)
    s.url = 'http://127.0.0.1:%d/' % port
    return s


def field(m, pos):
    return struct.unpack_from('<i', m, pos)[0]


async def receive_until(c, check, timeout=5):
    # frames until one passes check (the workers send theirs in between)
    end = time.monotonic() + timeout
    while True:
        m = await asyncio.wait_for(c.recv(), max(0.01, end - time.monotonic()))
        assert len(m) == D.SIZE
        if check(m):
            return m


def test_cpython_dashboard_sends_each_value_written_into_its_area(tmp_path):
    with dashboard('cpython', tmp_path) as s:
        a = sharedarea.get(sharedarea.add('file=%s,size=%d' % (tmp_path / 'area', D.SIZE)))

        async def main():
            async with websockets.connect(s.url.replace('http', 'ws') + 'ws') as c:
                first = await asyncio.wait_for(c.recv(), 5)
                for v in range(1500, 2600, 100):
                    a.write32(D.SETPOINT, v)
                    await receive_until(c, lambda m: field(m, D.SETPOINT) == v)
                for k in range(1, 6):
                    a.write64(D.STAMP, k)
                    await receive_until(c, lambda m: struct.unpack_from('<q', m, D.STAMP)[0] == k)
                last = await receive_until(c, lambda m: field(m, D.COUNTERS) > field(first, D.COUNTERS) + 2)
                return first, last
        first, last = asyncio.run(main())
        # the worker processes run: their counters move, and the temperature follows the setpoint
        assert field(last, D.COUNTERS + 4) > field(first, D.COUNTERS + 4)
        a.close()


def test_micropython_dashboard_sends_each_value_a_client_writes():
    with dashboard('micropython') as s:
        url = s.url.replace('http', 'ws') + 'ws'

        async def main():
            # (the writer never reads the frames pushed to it: with no queue limit they do not hold up its
            # close handshake)
            async with websockets.connect(url, max_queue=None) as writer, websockets.connect(url) as watcher:
                first = await asyncio.wait_for(watcher.recv(), 5)
                for v in range(1500, 2600, 100):
                    await writer.send('set %d' % v)  # written into the area by the server's push handler
                    await receive_until(watcher, lambda m: field(m, D.SETPOINT) == v)
                await writer.send('click')
                await receive_until(watcher, lambda m: field(m, D.CLICKS) == field(first, D.CLICKS) + 1)
                await writer.send('msg h\u00e9llo')
                await receive_until(watcher, lambda m: m[D.MSG:D.MSG + 7] == 'h\u00e9llo\0'.encode())
                # the worker threads run
                await receive_until(watcher, lambda m: field(m, D.COUNTERS) > field(first, D.COUNTERS) + 2)
        asyncio.run(main())


def need_chromium():
    # a user's machine without the browser skips with the reason; CI (CI=true) must run this test
    why = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        why = 'needs Playwright (pip install .[webtest])'
    if why is None and not os.path.exists(CHROMIUM):
        why = 'needs Chromium at %s (apt-get install chromium)' % CHROMIUM
    if why:
        if os.environ.get('CI') == 'true':
            pytest.fail('CI=true: the browser test must run, but it ' + why)
        pytest.skip(why)


def test_browser_shows_the_area_and_its_controls_write_into_it(tmp_path):
    need_chromium()
    from playwright.sync_api import sync_playwright
    with dashboard('cpython', tmp_path) as s, sync_playwright() as p:
        a = sharedarea.get(sharedarea.add('file=%s,size=%d' % (tmp_path / 'area', D.SIZE)))
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(s.url)
            page.wait_for_selector('body[data-live="1"]', timeout=10000)
            # values the test writes into the area appear in the page
            for v in (1234, 2345, 2999):
                a.write32(D.SETPOINT, v)
                page.wait_for_function("document.getElementById('setpoint').textContent == %r" % ('%.2f' % (v / 100)),
                                       timeout=5000)
            a.write64(D.STAMP, int(time.time() * 1e6))
            page.wait_for_function('window.saLat.length > 0', timeout=5000)
            ms = page.evaluate('window.saLat[window.saLat.length - 1]')
            assert 0 <= ms < 1000, ms  # write-to-browser latency, measured in the page
            for _ in range(3):  # (a worker may overwrite the slot at the same moment; try again then)
                D.write_msg(a, 'from the test \u2713')
                try:
                    page.wait_for_function("document.getElementById('msg').textContent == 'from the test \u2713'",
                                           timeout=2000)
                    break
                except Exception:
                    pass
            else:
                raise AssertionError('the message never showed: %r' % page.text_content('#msg'))
            assert int(page.text_content('#counters').split()[0]) > 0  # the workers' counters
            # the page's controls write into the area
            clicks = a.read32(D.CLICKS)
            page.click('#click')
            page.click('#click')
            until(lambda: a.read32(D.CLICKS) == clicks + 2, 'the button did not reach the area')
            page.eval_on_selector('#slider', "e => { e.value = 2550; e.dispatchEvent(new Event('input')); }")
            until(lambda: a.read32(D.SETPOINT) == 2550, 'the slider did not reach the area')
            page.wait_for_function("document.getElementById('setpoint').textContent == '25.50'", timeout=5000)
            page.fill('#text', 'typed in the page')
            for _ in range(3):  # (again, should a worker write its message at the same moment)
                page.click('#send')
                try:
                    until(lambda: a.read(D.MSG, D.MSG_LEN).rstrip(b'\0') == b'typed in the page', '', 2)
                    break
                except AssertionError:
                    pass
            else:
                raise AssertionError('the message box did not reach the area: %r' % a.read(D.MSG, D.MSG_LEN))
        finally:
            browser.close()
            a.close()


def until(check, what, timeout=5):
    end = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, what
        time.sleep(0.01)

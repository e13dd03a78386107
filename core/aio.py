# await area.changed(since=None, timeout=None): an asyncio task waits for an area's next update without
# polling. MicroPython: the port's bump() sets a ThreadSafeFlag; CPython: one helper thread per area.
import asyncio

from . import _port
from .area import SharedAreaError

_IDLE = 0.2  # seconds a helper thread outlives the last task that waited on it (a cancelled one, say)


async def changed(area, since=None, timeout=None):
    # the update count once it differs from since (None: from its value now); False after timeout seconds
    n = area.updates  # (raises for a closed area)
    if since is None:
        since = n
    elif type(since) is not int:
        raise TypeError('since must be an update count (int) or None, not %s' % type(since).__name__)
    elif n != since:
        return n
    if timeout is not None:
        if not isinstance(timeout, (int, float)):
            raise TypeError('timeout must be seconds (int or float) or None, not %s' % type(timeout).__name__)
        if not timeout > 0:
            return False  # nothing to wait for: the count is since
    own = getattr(area, '_changed', None)
    if own is not None:
        return await own(since, timeout)  # an area with its own way to wait (redis=: pub/sub)
    sync = area._sync
    if hasattr(sync, 'watch'):
        wait = _flagged(area, sync, since)
    else:
        wait = _threaded(area, sync, since)
    if timeout is None:
        return await wait
    try:
        return await asyncio.wait_for(wait, timeout)
    except asyncio.TimeoutError:
        return False


async def _flagged(area, sync, since):
    # MicroPython: every update sets the flag (from a thread, the other core or an IRQ handler too)
    flag = asyncio.ThreadSafeFlag()
    sync.watch(flag)
    try:
        while True:
            n = area.updates  # read after watch(): an update in between has set the flag
            if n != since:
                return n
            await flag.wait()
    finally:
        sync.unwatch(flag)


class Changes:
    # an area's updates, one after another (push's loop): on MicroPython one flag watched for the whole
    # life of this object, so waiting allocates nothing per update; on CPython changed() as it is
    def __init__(self, area):
        self.area = area
        self.sync = area._sync
        self.flag = None
        if hasattr(self.sync, 'watch'):
            self.flag = asyncio.ThreadSafeFlag()
            self.sync.watch(self.flag)

    def __repr__(self):
        return '<sharedarea.aio.Changes of area %d>' % self.area.id

    async def after(self, since):
        """The update count once it differs from since."""
        if self.flag is None:
            return await self.area.changed(since)  # (the area's own: a redis= area waits its way, issue 15)
        while True:
            n = self.area.updates  # (raises once the area is closed; close() sets the flag)
            if n != since:
                return n
            await self.flag.wait()

    def close(self):
        """Stops watching."""
        if self.flag is not None:
            self.sync.unwatch(self.flag)
            self.flag = None


async def _threaded(area, sync, since):
    # CPython: the area's helper thread sleeps in the port's futex wait and hands the count to this loop
    loop = asyncio.get_running_loop()
    fut = loop.create_future()
    w = _Watcher.of(sync)
    w.add(loop, fut, since)
    try:
        return await fut
    except SharedAreaError:
        area.updates  # closed: the core's message, which names the area
        raise
    finally:
        w.remove(fut)


def _settle(fut, n, err):
    # runs in the waiting task's loop
    if not fut.done():
        if err is None:
            fut.set_result(n)
        else:
            fut.set_exception(err)


class _Watcher:
    # the helper thread of one area's sync (areas over one file share it) and the futures waiting on it
    _all = {}  # sync -> _Watcher
    _lock = _port.new_lock()  # guards _all and every watcher's list and thread (CPython: MicroPython watches flags)

    @classmethod
    def of(cls, sync):
        """The watcher of sync, made on first use."""
        with cls._lock:
            w = cls._all.get(sync)
            if w is None:
                w = cls._all[sync] = cls(sync)
            return w

    def __init__(self, sync):
        self.sync = sync
        self.waiting = []  # [loop, future, since]
        self.thread = None

    def __repr__(self):
        return '<sharedarea helper thread: %d waiting, %s>' % (
            len(self.waiting), 'running' if self.thread else 'stopped')

    def add(self, loop, fut, since):
        """Waits for the count to differ from since, then sets fut in loop; starts the thread if need be."""
        with self._lock:
            self.waiting.append((loop, fut, since))
            if self.thread is None or not self.thread.is_alive():  # (not alive: we are a forked child)
                self.thread = _port.start_thread(self.run)

    def remove(self, fut):
        """Forgets fut (done, timed out or cancelled)."""
        with self._lock:
            self.waiting = [x for x in self.waiting if x[1] is not fut]

    def run(self):
        """The thread: wakes on each update, settles the futures whose since differs, ends when none wait."""
        sync = self.sync
        while True:
            with self._lock:
                if not self.waiting:
                    self.thread = None
                    return
            try:
                n = sync.count()
                self.settle(n, None)
                sync.wait(100, _IDLE, n)  # True on an update; False after _IDLE: see whether anyone still waits
            except SharedAreaError as e:
                self.settle(None, e)
            except ValueError:  # the companion's mapping is gone: closed
                self.settle(None, SharedAreaError('the area is closed'))

    def settle(self, n, err):
        """Hands n (or err, to every waiter) to the futures whose since differs from n."""
        with self._lock:
            done = [x for x in self.waiting if err is not None or x[2] != n]
            if not done:
                return
            self.waiting = [x for x in self.waiting if x not in done]
            if err is not None:
                self._all.pop(self.sync, None)
        for loop, fut, since in done:
            try:
                loop.call_soon_threadsafe(_settle, fut, n, err)
            except RuntimeError:
                pass  # that loop is closed: nobody is left to tell

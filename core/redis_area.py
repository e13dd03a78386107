# Areas kept in a Redis string, for sharing between machines: the same ops, results and errors as a local
# area, each op one round trip (a Lua script), locks as leases with fencing tokens, wait() woken by pub/sub.
import sys
import time

from .area import SharedArea, SharedAreaError, _bytes_of, _Held
from .resp import Conn, ReplyError, timed_out
from .resp import parse as _reply



_MICRO = sys.implementation.name == 'micropython'
_TIMEOUT = 5.0  # seconds: the spec's timeout= when not given
_LEASE = 10.0  # seconds: the spec's lease= when not given
_UPGRADE = 'this thread holds rlock on the area; upgrading it to a write is refused (unlock first)'  # (as locally)
_QUIET = object()  # what a read that timed out gives (the connection kept)
_KEYS = ('redis', 'key', 'size', 'pages', 'db', 'timeout', 'lease')

# One script for every op. KEYS: the data string, the update counter, the write lease, the readers
# (a sorted set: token -> expiry in server ms). ARGV: op, token ('' = no lock held), hold ('w', 'r' or
# ''), lease ms, deadline in server ms (0: none), size, channel, pos, n, data. Returns {status, ...}:
# ok (with data, count), busy (another holds the lock), lost (this holder's lease ran out), late (past
# the deadline: the caller gave up on it already), gone (the key is missing or not a string: its type),
# size (the string's length changed: that length).
_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local op, tok, hold, lease = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local dl = tonumber(ARGV[5])
if dl > 0 and now > dl then return {'late'} end
local w = redis.call('GET', KEYS[3])
if op == 'unlock' then
  if hold == 'w' then
    if w == tok then redis.call('DEL', KEYS[3]) end
  else
    redis.call('ZREM', KEYS[4], tok)
  end
  return {'ok'}
end
if hold == 'w' then
  if w ~= tok then return {'lost'} end
  redis.call('PEXPIRE', KEYS[3], lease)
elseif hold == 'r' then
  local s = redis.call('ZSCORE', KEYS[4], tok)
  if not s or tonumber(s) <= now then
    redis.call('ZREM', KEYS[4], tok)
    return {'lost'}
  end
  redis.call('ZADD', KEYS[4], now + lease, tok)
elseif w then
  return {'busy'}
elseif op ~= 'read' and op ~= 'rlock' then
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
  if redis.call('ZCARD', KEYS[4]) > 0 then return {'busy'} end
end
if op == 'renew' then return {'ok'} end
local ty = redis.call('TYPE', KEYS[1])['ok']
if ty ~= 'string' then return {'gone', ty} end
local size = tonumber(ARGV[6])
local len = redis.call('STRLEN', KEYS[1])
if len ~= size then return {'size', len} end
if op == 'wlock' then
  redis.call('SET', KEYS[3], tok, 'PX', lease)
  return {'ok'}
end
if op == 'rlock' then
  redis.call('ZADD', KEYS[4], now + lease, tok)
  return {'ok'}
end
local pos, n = tonumber(ARGV[8]), tonumber(ARGV[9])
if pos < 0 or pos >= size or pos + n > size then return {'range', len} end
if op == 'read' then
  if n == 0 then return {'ok', ''} end
  return {'ok', redis.call('GETRANGE', KEYS[1], pos, pos + n - 1)}
end
local out = ARGV[10]
if op == 'add' then
  local old = redis.call('GETRANGE', KEYS[1], pos, pos + n - 1)
  local r, c = {}, 0
  for i = 1, n do
    local s = old:byte(i) + out:byte(i) + c
    if s >= 256 then c = 1; s = s - 256 else c = 0 end
    r[i] = string.char(s)
  end
  out = table.concat(r)
end
if n > 0 then redis.call('SETRANGE', KEYS[1], pos, out) end
local cnt = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[7], cnt)
return {'ok', out, cnt}
"""

# at add(): creates the key zeroed at size when missing (size 0: it must exist); returns {type, length}
_OPEN = """
local ty = redis.call('TYPE', KEYS[1])['ok']
local size = tonumber(ARGV[1])
if ty == 'none' and size > 0 then
  redis.call('SETRANGE', KEYS[1], size - 1, '\\0')
  return {'string', size}
end
if ty ~= 'string' then return {ty, -1} end
return {ty, redis.call('STRLEN', KEYS[1])}
"""


def _sha1(text):
    try:
        from hashlib import sha1
    except ImportError:
        return None  # no hashlib: EVAL every time
    h = sha1(text.encode()).digest()
    return ''.join('%02x' % b for b in h)


_SHA = _sha1(_SCRIPT)


def _mono():
    # seconds from a monotonic clock
    if _MICRO:
        return time.ticks_ms() / 1000
    return time.monotonic()


def _elapsed(t0):
    # seconds since _mono() gave t0 (ticks wrap on MicroPython)
    if _MICRO:
        return time.ticks_diff(time.ticks_ms(), int(t0 * 1000)) / 1000
    return time.monotonic() - t0


def _port():
    from . import _port as port  # (the package's port, picked once by sharedarea/__init__.py)
    return port


def _ident():
    return _port().thread_ident()


def _token():
    return ''.join('%02x' % b for b in _port().random_bytes(12))


def _getenv(name):
    return _port().getenv(name)


def _seconds(spec, k, v):
    # timeout= and lease=: seconds, decimal with an optional fraction, more than 0
    ok = v and v.count('.') <= 1 and all(c in '0123456789.' for c in v) and v != '.'
    if not ok or not float(v) > 0:
        raise SharedAreaError('bad sharedarea spec %r: %s=%r must be seconds, more than 0 (e.g. 5 or 0.5)'
                              % (spec, k, v))
    return float(v)


def parse(spec, page=4096):
    """The keys of a redis= spec: redis=HOST:PORT or unix:PATH, key=, size= or pages=, db=, timeout=, lease=."""
    kv = {}
    for part in spec.split(','):
        k, v = (part.split('=', 1) + [''])[:2]
        if k not in _KEYS:
            raise SharedAreaError('bad sharedarea spec %r: key %r does not go with redis= (keys: %s)'
                                  % (spec, k, ' '.join(_KEYS)))
        if k in kv:
            raise SharedAreaError('bad sharedarea spec %r: %s given twice' % (spec, k))
        if not v:
            raise SharedAreaError('bad sharedarea spec %r: %s has no value' % (spec, k))
        kv[k] = v
    if 'key' not in kv:
        raise SharedAreaError('bad sharedarea spec %r: redis= needs key=NAME' % (spec,))
    r = kv['redis']
    if r.startswith('unix:'):
        addr = r[5:]
    else:
        host, _, port = r.rpartition(':') if ':' in r else (r, ':', '6379')
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise SharedAreaError('bad sharedarea spec %r: redis=%s is not HOST:PORT or unix:PATH' % (spec, r))
        addr = (host.strip('[]'), int(port))
    out = {'addr': addr, 'where': r, 'key': kv['key'], 'size': 0, 'db': 0,
           'timeout': _seconds(spec, 'timeout', kv['timeout']) if 'timeout' in kv else _TIMEOUT,
           'lease': _seconds(spec, 'lease', kv['lease']) if 'lease' in kv else _LEASE}
    for k in ('size', 'pages', 'db'):
        if k in kv:
            v = kv[k]
            h = k == 'size' and v[:2] == '0x'
            d = v[2:] if h else v
            if not d or any(c not in ('0123456789abcdefABCDEF' if h else '0123456789') for c in d) or len(d) > 12:
                raise SharedAreaError('bad sharedarea spec %r: %s=%r is not a number (%s)'
                                      % (spec, k, v, 'decimal or 0x-hex' if k == 'size' else 'decimal'))
            n = int(d, 16 if h else 10)
            if k != 'db' and not n:
                raise SharedAreaError('bad sharedarea spec %r: %s must be more than 0' % (spec, k))
            if k == 'pages':
                n *= page
                if 'size' in kv and out['size'] != n:
                    raise SharedAreaError('bad sharedarea spec %r: pages=%s (%d bytes) and size=%d disagree'
                                          % (spec, v, n, out['size']))
                k = 'size'
            out[k] = n
    # Redis strings hold at most 512 MB
    if out['size'] > 512 << 20:
        raise SharedAreaError('bad sharedarea spec %r: size=%d is more than a Redis string holds (512 MB)'
                              % (spec, out['size']))
    return out


class _RedisPy:
    # commands through redis-py (CPython): a thread-safe pool, no retries (a retried inc64 could land twice)
    def __init__(self, addr, timeout, password, db):
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry
        self.redis = redis
        kw = {'db': db, 'password': password, 'socket_timeout': timeout, 'socket_connect_timeout': timeout,
              'retry': Retry(NoBackoff(), 0)}
        if isinstance(addr, str):
            self.r = redis.Redis(unix_socket_path=addr, **kw)
        else:
            self.r = redis.Redis(host=addr[0], port=addr[1], **kw)

    def call(self, *args):
        try:
            return self.r.execute_command(*args)
        except self.redis.exceptions.NoScriptError as e:
            raise ReplyError('NOSCRIPT %s' % e)  # (redis-py drops the word; our RESP client keeps it)
        except self.redis.exceptions.ResponseError as e:
            raise ReplyError(str(e))
        except self.redis.exceptions.TimeoutError as e:
            raise OSError(110, 'timed out (%s)' % e)
        except self.redis.exceptions.ConnectionError as e:
            raise OSError(104, str(e))
        except Exception:
            if self.closed:  # another thread closed the area during this call (redis-py is not ready for that)
                raise OSError(104, 'the area was closed during the call')
            raise

    closed = False

    def close(self):
        self.closed = True
        self.r.close()
        self.r.connection_pool.disconnect()


class _Locked:
    # commands through our RESP client (MicroPython, or SHAREDAREA_REDIS_CLIENT=resp), one at a time
    def __init__(self, addr, timeout, password, db):
        self.c = Conn(addr, timeout, password, db)
        self.lock = _port().new_lock()

    def call(self, *args):
        if self.lock:
            self.lock.acquire()
        try:
            return self.c.call(*args)
        finally:
            if self.lock:
                self.lock.release()

    def close(self):
        self.c.close()


def _client(addr, timeout, password, db):
    if not _MICRO and _getenv('SHAREDAREA_REDIS_CLIENT') != 'resp':
        try:
            return _RedisPy(addr, timeout, password, db)
        except ImportError:
            raise SharedAreaError('redis= areas on CPython need redis-py: pip install "sharedarea[redis]" '
                                  '(or pip install redis)')
    return _Locked(addr, timeout, password, db)


def _why(e):
    # what went wrong with the connection, in words
    code = e.args[0] if e.args else None
    if timed_out(e):
        return 'no answer in time'
    if code in (111, 61) or 'refused' in str(e):
        return 'connection refused (is redis-server running?)'
    return 'connection failed (%s)' % (e,)


def _reopen(spec):
    import sharedarea
    return sharedarea.get(sharedarea.add(spec))


class RedisArea(SharedArea):
    """An area kept in a Redis string: same ops as a local one, one round trip each."""

    _conn = None  # class-level default: a half-made or closed area has no connection, close() is safe twice
    _buf = None  # (as SharedArea: None once closed; the connection while open)
    _mem = None
    _sync = None
    kind = 'redis'

    def __init__(self, spec, id=-1, page=4096):
        kv = parse(spec, page)
        self.id = id
        self.spec = spec
        self.key = kv['key']
        self._where = kv['where']
        self._addr = kv['addr']
        self._timeout = kv['timeout']
        self._lease_ms = int(kv['lease'] * 1000)
        self._db = kv['db']
        self._password = _getenv('SHAREDAREA_REDIS_PASSWORD') or _getenv('REDISCLI_AUTH')
        self._keys = (self.key, self.key + ':updates', self.key + ':wlock', self.key + ':readers')
        self._channel = self.key + ':updates'
        self._holds = {}  # thread -> [token, kinds ('w' or 'r', outermost first)]
        self._clock = None  # (server ms, local seconds) when the server's clock was read
        self._renewer = False
        self._conn = _client(self._addr, self._timeout, self._password, self._db)
        try:
            t, n = self._call('EVAL', _OPEN, 1, self.key, kv['size'])
        except SharedAreaError as e:
            self.close()
            raise SharedAreaError('sharedarea spec %r: %s' % (spec, str(e).split(': ', 1)[-1]))
        t = t.decode() if isinstance(t, bytes) else t
        if t == 'none':
            self.close()
            raise SharedAreaError('sharedarea spec %r: redis key %r does not exist; give size= to create it'
                                  % (spec, self.key))
        if t != 'string' or (kv['size'] and n != kv['size']):
            self.close()
            raise SharedAreaError('sharedarea spec %r: redis key %r is a %s of %d bytes, not a string of %d; '
                                  'it is never grown or truncated: delete it or use another key'
                                  % (spec, self.key, t, n, kv['size']) if t == 'string' else
                                  'sharedarea spec %r: redis key %r holds a %s, not a string' % (spec, self.key, t))
        self.size = n
        self._held = _Held(self)
        self._buf = self._conn  # open: SharedArea's checks (_check, _length) work as they are

    def number(self, id):
        """Takes its id (add() numbers an area once it is connected); returns the area."""
        self.id = id
        return self

    def __reduce__(self):
        # pickled as its spec: a multiprocessing worker opens the same key on the same server
        return (_reopen, (self.spec,))

    def __repr__(self):
        return '<RedisArea id=%d size=%d redis %s key %r%s>' % (self.id, self.size, self._where, self.key,
                                                               ' closed' if self._buf is None else '')

    # -- the round trips

    def _call(self, *args):
        # one command; a connection fault is a SharedAreaError naming the server and the timeout
        c = self._conn
        if c is None:
            raise SharedAreaError('sharedarea %d is closed' % self.id)
        try:
            return c.call(*args)
        except OSError as e:
            raise SharedAreaError('sharedarea %d: redis %s: %s (timeout=%g s)'
                                  % (self.id, self._where, _why(e), self._timeout))
        except ReplyError as e:
            raise SharedAreaError('sharedarea %d: redis %s said: %s' % (self.id, self._where, e))

    def _deadline(self):
        # the server time after which the op must not run: the caller has given up on it by then
        # (a server stopped mid-call and resumed later finds the op late and does nothing)
        if self._clock is None or _elapsed(self._clock[1]) > 600:
            t0 = _mono()
            r = self._call('TIME')
            sec, usec = int(r[0]), int(r[1])
            self._clock = (sec * 1000 + usec // 1000 - int(_elapsed(t0) * 500), t0)
        ms, t0 = self._clock
        return ms + int((_elapsed(t0) + self._timeout * 0.8) * 1000)

    def _script(self, op, pos=0, n=0, data=b'', hold=None):
        # one op on the server; waits while another holds the lock; returns (data, count)
        me = _ident()
        h = self._holds.get(me)
        tok, kind = (h[0], h[1][0]) if h else ('', '')
        if hold:
            tok, kind = hold
        args = [op, tok, kind, self._lease_ms, 0, self.size, self._channel, int(pos), n, data]  # (a bool pos is an int)
        nap = 0.001
        late = 0
        while True:
            if self._buf is None and op != 'unlock':  # closed meanwhile (by another thread, while this one waited)
                raise SharedAreaError('sharedarea %d is closed' % self.id)
            args[4] = self._deadline()
            if _SHA:
                try:
                    r = self._conn_eval('EVALSHA', _SHA, args)
                except ReplyError as e:
                    if 'NOSCRIPT' not in str(e):
                        raise SharedAreaError('sharedarea %d: redis %s said: %s' % (self.id, self._where, e))
                    r = self._conn_eval('EVAL', _SCRIPT, args)
            else:
                r = self._conn_eval('EVAL', _SCRIPT, args)
            st = r[0].decode() if isinstance(r[0], bytes) else r[0]
            if st == 'ok':
                return (r[1] if len(r) > 1 else None), (r[2] if len(r) > 2 else None)
            if st == 'busy':
                time.sleep(nap)  # another thread or host holds the lock: wait for it, as a local area does
                nap = min(nap * 2, 0.02)
                continue
            if st == 'late' and not late:
                late = 1  # the clocks drifted apart: read the server's again, once
                self._clock = None
                continue
            raise SharedAreaError(self._status(st, r, hold or (tok, kind)))

    def _conn_eval(self, how, script, args):
        k = self._keys
        c = self._conn
        if c is None:
            raise SharedAreaError('sharedarea %d is closed' % self.id)
        try:
            return c.call(how, script, 4, k[0], k[1], k[2], k[3], *args)
        except OSError as e:
            if self._conn is None:  # close() in another thread shut the connection under this call
                raise SharedAreaError('sharedarea %d is closed (by another thread, during the call)' % self.id)
            raise SharedAreaError('sharedarea %d: redis %s: %s (timeout=%g s)'
                                  % (self.id, self._where, _why(e), self._timeout))

    def _status(self, st, r, hold):
        # the message for a status the script returned
        if st == 'lost':
            return ('sharedarea %d: the %s lease on redis key %r was lost (it ran out: lease=%g s); nothing '
                    'was done; unlock() and lock again' % (self.id, 'wlock' if hold[1] == 'w' else 'rlock',
                                                            self.key, self._lease_ms / 1000))
        if st == 'late':
            return ('sharedarea %d: redis %s ran the op after its deadline (a stopped server, or clocks that '
                    'jump); nothing was done' % (self.id, self._where))
        if st == 'gone':
            t = r[1].decode() if isinstance(r[1], bytes) else r[1]
            if t == 'none':
                return ('sharedarea %d: redis key %r is missing (deleted, or the server restarted without '
                        'persistence); nothing was done' % (self.id, self.key))
            return 'sharedarea %d: redis key %r now holds a %s, not a string' % (self.id, self.key, t)
        if st == 'size' or st == 'range':
            return ('sharedarea %d: redis key %r is now %d bytes, not %d; nothing was done'
                    % (self.id, self.key, r[1], self.size))
        return 'sharedarea %d: redis script said %r' % (self.id, st)

    # -- the checks, as a local area makes them

    def _writing(self):
        # a write under this thread's own rlock is refused, as locally
        h = self._holds.get(_ident())
        if h and h[1][0] == 'r':
            raise SharedAreaError(_UPGRADE)

    # -- the data ops

    def read(self, pos, length=0):
        """The bytes at pos (length 0: to the end)."""
        length = self._length(pos, length, self.size)
        self._check(pos, length)
        return bytes(self._script('read', pos, length)[0])

    def write(self, pos, data):
        """Stores data (any bytes-like object; a str as UTF-8) at pos."""
        data = _bytes_of(data)
        n = len(data)
        self._check(pos, n)
        self._writing()
        self._script('write', pos, n, bytes(data))

    def readfast(self, pos, buf, length=0):
        """Copies the bytes at pos into buf (no new object); returns how many (length 0: as many as fit)."""
        view, length = self._into(pos, buf, length)
        self._check(pos, length)
        view[0:length] = self._script('read', pos, length)[0]
        return length

    # read8 .. dec64 are the core's methods (same checks and messages); their two helpers are one script each here
    def _get(self, pos, w):
        self._check(pos, w)
        return self._signed(self._script('read', pos, w)[0], w)

    def _put(self, pos, w, value, add):
        self._check(pos, w)
        self._writing()
        value &= (1 << w * 8) - 1
        d = self._script('add' if add else 'write', pos, w, bytes((value >> (8 * i)) & 255 for i in range(w)))[0]
        return self._signed(d, w)

    def _signed(self, d, w):
        o = 0
        for i in range(w - 1, -1, -1):
            o = o << 8 | d[i]
        return o - (o >> (w * 8 - 1) << w * 8)

    def update(self):
        """Bumps the update counter (and wakes every waiter, on every host)."""
        self._check(0, 0)
        self._writing()
        self._script('write', 0, 0)

    @property
    def updates(self):
        """The update counter (kept in the key NAME:updates)."""
        self._check(0, 0)
        return int(self._call('GET', self._keys[1]) or 0)

    def memoryview(self):
        """Refused: the bytes live on the server."""
        self._check(0, 0)
        raise SharedAreaError('sharedarea %d: memoryview() is not available for a redis area (its bytes live on '
                              'the server); use read(), readfast() and write()' % self.id)

    def object(self):
        """Refused: the area was not made from a buffer."""
        self._check(0, 0)
        raise SharedAreaError('sharedarea %d was not made from a buffer: no object() to return' % self.id)

    # -- locks: leases on the server, held by a thread of this process, nesting for it

    def rlock(self):
        """Takes a shared lease (waits while another holds wlock); nests for its holder."""
        return self._lock('r')

    def wlock(self):
        """Takes the exclusive lease (waits for every other holder); nests for its holder."""
        return self._lock('w')

    def _lock(self, kind):
        self._check(0, 0)
        me = _ident()
        h = self._holds.get(me)
        if h:
            if kind == 'w' and h[1][0] == 'r':
                raise SharedAreaError(_UPGRADE)
            h[1].append(kind)
            return self._held
        tok = _token()
        self._script(kind + 'lock', hold=(tok, ''))
        self._holds[me] = [tok, [kind]]
        if self._buf is None:  # closed by another thread while this one waited
            self._holds.pop(me, None)
            self._check(0, 0)
        self._renew_start()
        return self._held

    def unlock(self):
        """Drops this thread's innermost lock; the last one frees the lease on the server."""
        self._check(0, 0)
        if not self._drop(_ident()):
            raise SharedAreaError('sharedarea %d: unlock() without a lock held by this thread' % self.id)

    def _drop(self, me):
        # leaves the innermost hold of thread me; False when it holds nothing. A lost lease is let go quietly.
        h = self._holds.get(me)
        if not h:
            return False
        kind = h[1][0]
        h[1].pop()
        if not h[1]:
            del self._holds[me]
            try:
                self._script('unlock', hold=(h[0], kind))
            except SharedAreaError:
                pass  # the server is away: the lease runs out on its own
        return True

    def _renew_start(self):
        # CPython: a thread renews this process's leases every lease/3 while any are held; MicroPython
        # renews a lease on every op made under it (and an idle holder loses it after lease= seconds)
        if _MICRO or self._renewer:
            return
        self._renewer = True
        _port().start_thread(self._renew_loop)

    def _renew_loop(self):
        while self._conn is not None:
            time.sleep(self._lease_ms / 3000)
            if not self._holds:
                self._renewer = False
                if not self._holds:
                    return
                self._renewer = True  # (a lock taken just now: keep going; a second renewer would do no harm)
            for me, h in list(self._holds.items()):
                try:
                    self._script('renew', hold=(h[0], h[1][0]))
                except (SharedAreaError, IndexError):
                    pass  # lost, or the server is away: the holder's next op says so
        self._renewer = False

    # -- waiting: pub/sub on NAME:updates, subscribed before the counter is read

    def _wait_for(self, freq, timeout, since):
        # wait() after the core's checks of its arguments
        sub = Conn(self._addr, self._timeout, self._password, self._db)
        try:
            return self._wait(sub, freq / 1000, timeout, since)
        except OSError as e:
            raise SharedAreaError('sharedarea %d: redis %s: %s while waiting (timeout=%g s)'
                                  % (self.id, self._where, _why(e), self._timeout))
        finally:
            sub.close()

    def _wait(self, sub, step, timeout, since):
        t0 = _mono()
        if since is None:
            since = self.updates  # the count as the call begins
        sub.call('SUBSCRIBE', self._channel)  # (its reply confirms it: no update after this is missed)
        if self.updates != since:  # read after subscribing: an update made meanwhile is seen here
            return True
        base = since
        quiet = _mono()  # since the server last said something
        pinged = False
        while True:
            left = timeout - _elapsed(t0) if timeout else step
            if left <= 0:
                return False
            if self._buf is None:  # closed by another thread: this waiter learns it within freq
                raise SharedAreaError('sharedarea %d is closed' % self.id)
            m = sub.reply(max(0.001, min(left, step)), _QUIET)
            if m is _QUIET:
                # silence: after timeout= of it, ask the server whether it is still there
                if _elapsed(quiet) >= self._timeout:
                    if pinged:
                        raise OSError(110, 'no answer to PING')
                    sub.send('PING')
                    pinged = True
                    quiet = _mono()
                continue
            quiet = _mono()
            pinged = False
            if isinstance(m, list) and len(m) == 3 and m[0] == b'message':
                try:
                    if int(m[2]) != base:
                        return True
                except ValueError:
                    pass

    async def _changed(self, since, timeout):
        # pub/sub on an asyncio stream (both runtimes): other tasks run while it waits, and nothing polls
        import asyncio
        try:
            if isinstance(self._addr, str):
                if not hasattr(asyncio, 'open_unix_connection'):
                    raise SharedAreaError('sharedarea %d: changed() over a unix socket needs '
                                          'asyncio.open_unix_connection, which this runtime lacks' % self.id)
                rd, wr = await asyncio.wait_for(asyncio.open_unix_connection(self._addr), self._timeout)
            else:
                rd, wr = await asyncio.wait_for(asyncio.open_connection(*self._addr), self._timeout)
        except (OSError, asyncio.TimeoutError) as e:
            raise SharedAreaError('sharedarea %d: redis %s: %s while waiting (timeout=%g s)'
                                  % (self.id, self._where, _why(e), self._timeout))
        try:
            return await self._listen(asyncio, rd, wr, since, timeout)
        except (OSError, asyncio.TimeoutError) as e:
            raise SharedAreaError('sharedarea %d: redis %s: %s while waiting (timeout=%g s)'
                                  % (self.id, self._where, _why(e), self._timeout))
        finally:
            wr.close()

    async def _listen(self, asyncio, rd, wr, since, timeout):
        # raw reads (a cancelled one consumes nothing) parsed here, so a short wait_for() never splits a
        # message: this waiter checks every 0.1 s whether another thread closed the area
        got = {'buf': b''}
        cmds = [('AUTH', self._password)] if self._password else []
        for c in cmds + [('SUBSCRIBE', self._channel)]:
            wr.write(('*%d\r\n' % len(c) + ''.join('$%d\r\n%s\r\n' % (len(a), a) for a in c)).encode())
            await wr.drain()
            m = await self._next(asyncio, rd, got, _mono(), self._timeout)  # +OK, or the subscribe confirmation
            if m is _QUIET:
                raise OSError(110, 'no answer to %s' % c[0])
        now = self.updates  # read after subscribing: an update made meanwhile is seen here
        if now != since:
            return now
        t0 = _mono()
        while True:
            m = await self._next(asyncio, rd, got, t0, timeout)
            if m is _QUIET:
                return False
            if isinstance(m, list) and len(m) == 3 and m[0] == b'message':
                try:
                    if int(m[2]) != since:
                        return int(m[2])
                except ValueError:
                    pass

    async def _next(self, asyncio, rd, got, t0, timeout):
        # the next reply on the subscription; _QUIET once timeout seconds (None: never) have passed since t0
        while True:
            r = _reply(got['buf'], 0)
            if r is not None:
                got['buf'] = got['buf'][r[1]:]
                if isinstance(r[0], ReplyError):
                    raise SharedAreaError('sharedarea %d: redis %s said: %s' % (self.id, self._where, r[0]))
                return r[0]
            if self._buf is None:
                raise SharedAreaError('sharedarea %d is closed' % self.id)
            left = timeout - _elapsed(t0) if timeout else 0.1
            if left <= 0:
                return _QUIET
            try:
                d = await asyncio.wait_for(rd.read(4096), min(left, 0.1))
            except asyncio.TimeoutError:
                continue
            if not d:
                raise OSError(104, 'the server closed the connection')
            got['buf'] += d

    def close(self):
        """Drops this process's leases and the connection; twice is fine; later use raises SharedAreaError."""
        c = self._conn
        if c is None:
            return
        self._buf = None  # closed for every check from now on: a thread waiting for a lock gets the error
        for me in list(self._holds):
            while self._drop(me):
                pass
        self._conn = None
        c.close()

# A small Redis client (RESP2 over a TCP or unix socket) for runtimes without redis-py (MicroPython), and
# for pub/sub everywhere: commands, replies, SUBSCRIBE; every read and write bounded by a timeout.
import socket

try:
    from errno import ETIMEDOUT
except ImportError:
    ETIMEDOUT = 110


class ReplyError(Exception):
    # an error reply from the server ("-ERR ...", "-NOSCRIPT ..."); the connection stays usable
    pass


def _enc(a):
    # an argument as bytes: bytes-likes as they are, the rest through str()
    if isinstance(a, (bytes, bytearray)):
        return bytes(a)
    return str(a).encode()


class Conn:
    """One connection to a Redis server, opened on first use and dropped after any fault."""

    def __init__(self, addr, timeout, password=None, db=0):
        # addr: (host, port) or the path of a unix socket; timeout in seconds bounds every read and write
        self.addr = addr
        self.timeout = timeout
        self.password = password
        self.db = db
        self.sock = None
        self.buf = b''

    def open(self):
        """Connects, authenticates and selects the db."""
        if isinstance(self.addr, str):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            where = self.addr
        else:
            ai = socket.getaddrinfo(self.addr[0], self.addr[1], 0, socket.SOCK_STREAM)[0]
            where = ai[-1]
            s = socket.socket(ai[0], socket.SOCK_STREAM)  # (IPv4 or IPv6, as the name resolves)
        s.settimeout(self.timeout)
        try:
            s.connect(where)
        except BaseException:
            s.close()
            raise
        self.sock = s
        self.buf = b''
        if self.password:
            self.call('AUTH', self.password)
        if self.db:
            self.call('SELECT', self.db)

    def close(self):
        """Drops the connection (twice is fine); the next call opens a new one."""
        s = self.sock
        self.sock = None
        self.buf = b''
        if s is not None:
            try:
                s.shutdown(2)  # SHUT_RDWR: a call waiting for its reply in another thread ends at once
            except (AttributeError, OSError):
                pass  # (MicroPython's sockets have no shutdown(): that call ends at its timeout)
            s.close()

    def send(self, *args):
        """Sends one command (no reply read)."""
        if self.sock is None:
            self.open()
        out = [('*%d\r\n' % len(args)).encode()]
        for a in args:
            a = _enc(a)
            out.append(('$%d\r\n' % len(a)).encode())
            out.append(a)
            out.append(b'\r\n')
        data = b''.join(out)
        try:
            n = 0
            while n < len(data):
                k = self.sock.send(data[n:])
                if not k:
                    raise OSError(ETIMEDOUT, 'the server takes no more data')
                n += k
        except BaseException:
            self.close()
            raise

    def call(self, *args):
        """Sends one command and returns its reply (bytes, int, list or None); ReplyError for an error reply."""
        if self.sock is not None and self._stale():
            self.close()  # the server closed it while idle (a restart, CLIENT KILL): a new one, before sending
        self.send(*args)
        return self.reply()

    def _stale(self):
        # something to read on a connection that owes us nothing: its end of file, or junk
        try:
            import select
            p = select.poll()
            p.register(self.sock, select.POLLIN)
            return bool(p.poll(0))
        except (ImportError, AttributeError, OSError):
            return False

    def reply(self, timeout=None, quiet=None):
        """Reads one reply. With timeout (seconds, this read only): quiet when no whole reply came in that
        time, the connection kept. OSError (and the connection dropped) on a fault; ReplyError for an error."""
        if self.sock is None:
            raise OSError(104, 'not connected')
        if timeout is not None:
            self.sock.settimeout(timeout)
        try:
            while True:
                r = parse(self.buf, 0)
                if r is not None:
                    break
                try:
                    d = self.sock.recv(4096)
                except OSError as e:
                    if timeout is not None and timed_out(e):
                        return quiet
                    raise
                if not d:
                    raise OSError(104, 'the server closed the connection')
                self.buf += d
        except BaseException:
            self.close()
            raise
        finally:
            if timeout is not None and self.sock is not None:
                self.sock.settimeout(self.timeout)
        item, j = r
        self.buf = self.buf[j:]
        if isinstance(item, ReplyError):
            raise item
        return item

def parse(b, i):
    """(reply, index after it) for the RESP reply at b[i:], or None while it is incomplete (nothing consumed)."""
    e = b.find(b'\r\n', i)
    if e < 0:
        return None
    t = b[i:i + 1]
    ln = b[i + 1:e]
    e += 2
    if t == b'+':
        return ln, e
    if t == b'-':
        return ReplyError(ln.decode()), e
    if t == b':':
        return int(ln), e
    if t == b'$':
        n = int(ln)
        if n < 0:
            return None, e
        if len(b) < e + n + 2:
            return None
        return b[e:e + n], e + n + 2
    if t == b'*':
        n = int(ln)
        if n < 0:
            return None, e
        out = []
        for _ in range(n):
            r = parse(b, e)
            if r is None:
                return None
            out.append(r[0])  # (an error inside an array, as EVAL may give, is an item)
            e = r[1]
        return out, e
    raise OSError(71, 'not a RESP reply: %r' % b[i:i + 40])


def timed_out(e):
    # is this OSError a socket timeout (CPython: socket.timeout; MicroPython: ETIMEDOUT or EAGAIN)?
    return type(e).__name__ in ('timeout', 'TimeoutError') or (e.args and e.args[0] in (ETIMEDOUT, 11))

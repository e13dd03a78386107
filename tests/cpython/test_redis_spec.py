# redis= specs: the keys, what a bad one says, an existing key of another length or type, db=, a unix
# socket, and the password from the environment.
import os
import random
import socket
import subprocess
import time

import pytest

import sharedarea
from redis_server import EXE, Server, need_redis, shared, not_pure
from sharedarea import SharedAreaError

pytestmark = not_pure


def key():
    return 'sa-spec-%d' % random.randrange(1 << 40)


@pytest.fixture(params=['redis-py', 'resp'])
def client(request, monkeypatch):
    monkeypatch.setenv('SHAREDAREA_REDIS_CLIENT', request.param)
    return request.param


def test_bad_redis_specs_name_what_is_wrong():
    need_redis()
    addr = shared().addr
    for spec, words in (('redis=%s' % addr, 'key=NAME'),
                        ('redis=%s,key=a,size=0' % addr, 'size must be more than 0'),
                        ('redis=%s,key=a,size=-4' % addr, 'not a number'),
                        ('redis=%s,key=a,size=8,file=/tmp/x' % addr, "key 'file' does not go with redis="),
                        ('redis=%s,key=a,key=b,size=8' % addr, 'key given twice'),
                        ('redis=%s,key=,size=8' % addr, 'key has no value'),
                        ('redis=localhost:99999,key=a,size=8', 'not HOST:PORT'),
                        ('redis=%s,key=a,size=8,timeout=0' % addr, 'timeout='),
                        ('redis=%s,key=a,size=8,lease=soon' % addr, 'lease='),
                        ('redis=%s,key=a,pages=1,size=5' % addr, 'disagree'),
                        ('key=a,size=8', 'goes with redis='), ('size=8,lease=3', 'goes with redis=')):
        before = len(sharedarea._areas)
        e = pytest.raises(SharedAreaError, sharedarea.add, spec)
        assert words in str(e.value) and 'spec' in str(e.value), (spec, str(e.value))
        assert len(sharedarea._areas) == before  # no id used


def test_existing_key_of_another_length_or_type(client):
    srv = shared()
    k = key()
    srv.cmd('SET', k, b'12345')
    e = pytest.raises(SharedAreaError, sharedarea.add, 'redis=%s,key=%s,size=8' % (srv.addr, k))
    assert k in str(e.value) and '5 bytes' in str(e.value), str(e.value)
    assert srv.cmd('GET', k) == b'12345'  # never grown
    a = sharedarea.get(sharedarea.add('redis=%s,key=%s' % (srv.addr, k)))  # no size: the key's length
    assert a.size == 5 and a.read(0) == b'12345'
    h = key()
    srv.cmd('HSET', h, 'f', 'v')
    e = pytest.raises(SharedAreaError, sharedarea.add, 'redis=%s,key=%s,size=8' % (srv.addr, h))
    assert h in str(e.value) and 'hash' in str(e.value), str(e.value)
    e = pytest.raises(SharedAreaError, sharedarea.add, 'redis=%s,key=%s' % (srv.addr, key()))
    assert 'does not exist' in str(e.value) and 'size=' in str(e.value)


def test_new_key_is_zeroed_at_size_and_changes_of_it_are_noticed(client):
    srv = shared()
    k = key()
    a = sharedarea.get(sharedarea.add('redis=%s,key=%s,size=0x20' % (srv.addr, k)))
    assert a.size == 32 and srv.cmd('GET', k) == bytes(32)
    srv.cmd('APPEND', k, b'more')  # someone else grows it behind the area's back
    e = pytest.raises(SharedAreaError, a.write, 0, b'x')
    assert '36 bytes, not 32' in str(e.value), str(e.value)
    assert srv.cmd('GET', k) == bytes(32) + b'more'  # nothing written


def test_db_unix_socket_and_password(client, monkeypatch):
    need_redis()
    sock = os.path.join('/tmp', 'sa-redis-%d.sock' % random.randrange(1 << 30))
    srv = Server()
    srv.proc = subprocess.Popen([EXE, '--port', str(srv.port), '--bind', '127.0.0.1', '--save', '', '--appendonly',
                                 'no', '--dir', srv.dir, '--unixsocket', sock, '--requirepass', 's3cret'],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        end = time.monotonic() + 10
        while time.monotonic() < end:  # up once it answers (NOAUTH) on its unix socket
            try:
                with socket.socket(socket.AF_UNIX) as s:
                    s.connect(sock)
                    s.sendall(b'PING\r\n')
                    if s.recv(64):
                        break
            except OSError:
                time.sleep(0.01)
        monkeypatch.delenv('SHAREDAREA_REDIS_PASSWORD', raising=False)
        monkeypatch.delenv('REDISCLI_AUTH', raising=False)
        e = pytest.raises(SharedAreaError, sharedarea.add, 'redis=unix:%s,key=k,size=8' % sock)
        assert 'auth' in str(e.value).lower(), str(e.value)
        monkeypatch.setenv('SHAREDAREA_REDIS_PASSWORD', 's3cret')
        a = sharedarea.get(sharedarea.add('redis=unix:%s,key=k,size=8,db=3' % sock))
        a.write(0, b'unix')
        monkeypatch.delenv('SHAREDAREA_REDIS_PASSWORD')
        monkeypatch.setenv('REDISCLI_AUTH', 's3cret')
        b = sharedarea.get(sharedarea.add('redis=%s,key=k,size=8,db=3' % srv.addr))
        assert b.read(0, 4) == b'unix'  # the same key in db 3, by TCP
        assert b.wait(10, 5, b.updates - 1) is True  # pub/sub with the password too
        c = sharedarea.get(sharedarea.add('redis=%s,key=k,size=8' % srv.addr))
        assert c.read(0, 4) == bytes(4)  # db 0 is another key
        for x in (a, b, c):
            x.close()
    finally:
        srv.close()
        if os.path.exists(sock):
            os.remove(sock)


def test_repr_and_with_closes():
    srv = shared()
    k = key()
    with sharedarea.get(sharedarea.add('redis=%s,key=%s,size=16' % (srv.addr, k))) as a:
        assert repr(a) == "<RedisArea id=%d size=16 redis %s key '%s'>" % (a.id, srv.addr, k), repr(a)
        with a.wlock() as held:
            assert held is a
            a.write(0, b'w')
        pytest.raises(SharedAreaError, a.unlock)
    assert repr(a).endswith(' closed>')
    e = pytest.raises(SharedAreaError, a.read, 0)
    assert 'closed' in str(e.value)
    e = pytest.raises(SharedAreaError, sharedarea.get, a.id)
    assert 'closed' in str(e.value)
    a.close()  # twice is fine

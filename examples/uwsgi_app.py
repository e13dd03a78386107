# Code written for uWSGI (`import uwsgi`, its sharedarea_* functions), run without uWSGI through the
# drop-in. Under real uWSGI the same file runs as it is: uwsgi --http :8080 --sharedarea 1 --wsgi-file THIS
import sharedarea.uwsgi

sharedarea.uwsgi.install(['1'])  # as `--sharedarea 1`: area 0; leaves a real uwsgi module alone
import uwsgi  # noqa: E402 (the real one inside uWSGI, the drop-in here)

HITS = 0  # a 64-bit counter at byte 0 of area 0, shared by every worker


def application(environ, start_response):
    n = uwsgi.sharedarea_inc64(0, HITS)  # the new value (uWSGI itself returns None here: see docs/uwsgi.md)
    if n is None:
        n = uwsgi.sharedarea_read64(0, HITS)
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [('hit %d on %s\n' % (n, environ.get('PATH_INFO', '/'))).encode()]


if __name__ == '__main__':
    # three requests through the WSGI interface, as a server would make them
    from wsgiref.util import setup_testing_defaults
    for path in ('/', '/about', '/'):
        env = {'PATH_INFO': path}
        setup_testing_defaults(env)
        body = application(env, lambda status, headers: None)
        print(b''.join(body).decode(), end='')
    print('area 0 holds %d hits' % uwsgi.sharedarea_read64(0, HITS))

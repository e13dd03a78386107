# CPython-only tests of issue 17: file areas safe against other local users, full filesystems and start-up
# races. Each case runs as root in a private /dev/shm (a tmpfs mounted inside `unshare -m`), attacked by
# user nobody, on the compiled and the pure path; the work is in secworker.py. See docs/security.md.
import importlib.util
import os
import shutil
import subprocess
import sys

import pytest

import sharedarea  # noqa: F401 (so that find_spec can look inside it)

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'secworker.py')
_WHY = []  # why this machine cannot run the cases ('' once it can), worked out once


def _python_for_others():
    # an interpreter of this version that user nobody can run (this one may sit under /root)
    v = '%d.%d' % sys.version_info[:2]
    for py in (os.path.realpath(sys.executable), '/usr/bin/python' + v, '/usr/local/bin/python' + v):
        if not os.path.exists(py):
            continue
        r = subprocess.run(['runuser', '-u', 'nobody', '--', py, '-c',
                            'import sys; print("%d.%d" % sys.version_info[:2])'],
                           capture_output=True, text=True, cwd='/')
        if r.returncode == 0 and r.stdout.strip() == v:
            return py
    return None


def _why_not():
    if not _WHY:
        why = ''
        if os.geteuid() != 0:
            why = 'needs root (to mount a private /dev/shm and to act as user nobody)'
        for tool in ('unshare', 'runuser', 'setpriv', 'mount'):
            if not why and not shutil.which(tool):
                why = 'needs the %s command' % tool
        if not why:
            r = subprocess.run(['unshare', '-m', 'sh', '-c', 'mount -t tmpfs none /dev/shm'],
                               capture_output=True, text=True)
            if r.returncode:
                why = 'cannot mount a private /dev/shm (unshare -m): %s' % r.stderr.strip()
        if not why:
            _WHY.append(_python_for_others() or '')
            if not _WHY[0]:
                why = 'no python%d.%d that user nobody can run' % sys.version_info[:2]
        _WHY[:] = [why, _WHY[0] if _WHY else '']
    return _WHY[0]


def run_case(case, path):
    why = _why_not()
    if not why and path == 'fast' and not importlib.util.find_spec('sharedarea.port_cpython._fast'):
        why = 'the compiled _fast extension is not built'  # (SHAREDAREA_PURE here does not matter: the case sets it)
    if why:
        if os.environ.get('CI') == 'true':
            pytest.fail('CI=true, so this must run: ' + why)
        pytest.skip(why)
    env = dict(os.environ, SHAREDAREA_PURE='1' if path == 'pure' else '0', SA_OTHERS_PY=_WHY[1])
    r = subprocess.run(['unshare', '-m', 'sh', '-c', 'mount -t tmpfs -o size=16m,mode=1777 none /dev/shm && '
                        'exec "$0" "$@"', sys.executable, WORKER, 'case', case],
                       capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0 and 'PASS ' + case in r.stdout, r.stdout[-3000:] + r.stderr[-5000:]


PATHS = pytest.mark.parametrize('path', ['fast', 'pure'])


@PATHS
def test_1_symlinked_companion_is_refused_and_its_target_untouched(path):
    run_case('clobber', path)


@PATHS
def test_2_squatted_companion_is_refused_with_path_owner_and_remedy(path):
    run_case('squat', path)


@PATHS
def test_3_read_only_user_cannot_block_writers(path):
    run_case('readonly', path)


@PATHS
def test_4_full_dev_shm_is_an_error_at_add_not_sigbus(path):
    run_case('full', path)


@PATHS
def test_5_other_users_file_or_symlink_refused_unless_shared_group(path):
    run_case('datapath', path)


@PATHS
def test_6_eight_simultaneous_creators_all_get_in_exact_total(path):
    run_case('race', path)


@PATHS
def test_7_group_shared_0660_at_umask_022_and_dead_members_leftover(path):
    run_case('group', path)


@PATHS
def test_8_removed_companion_is_caught_at_the_lock_wait(path):
    run_case('deleted', path)


@PATHS
def test_9_truncation_memfds_sealed_regular_files_sigbus_as_documented(path):
    run_case('truncated', path)
    with open(os.path.join(os.path.dirname(WORKER), '..', '..', 'docs', 'security.md')) as f:
        assert 'truncat' in f.read()

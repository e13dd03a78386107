# CPython-only: what a Python package is expected to carry: one version everywhere, the licence pyproject
# names, a changelog entry for this version, the public exception under its public name.
import json
import os
import pickle
import re

import sharedarea

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def read(name):
    with open(os.path.join(ROOT, name)) as f:
        return f.read()


def test_one_version_in_the_module_pyproject_package_json_and_changelog():
    v = sharedarea.__version__
    assert re.search(r'^version = "%s"$' % re.escape(v), read('pyproject.toml'), re.M)
    assert json.loads(read('package.json'))['version'] == v
    assert re.search(r'^## %s$' % re.escape(v), read('CHANGELOG.md'), re.M)


def test_the_license_file_is_the_one_pyproject_names():
    assert 'license = {text = "MIT"}' in read('pyproject.toml')
    text = read('LICENSE')
    assert text.startswith('MIT License') and 'the sharedarea authors' in text


def test_the_error_shows_as_sharedarea_SharedAreaError():
    assert sharedarea.SharedAreaError.__module__ == 'sharedarea'
    try:
        sharedarea.get(10 ** 6)
    except sharedarea.SharedAreaError as e:
        assert repr(type(e)) == "<class 'sharedarea.SharedAreaError'>"
        assert isinstance(pickle.loads(pickle.dumps(e)), sharedarea.SharedAreaError)
    else:
        raise AssertionError('no error for an unknown id')


def test_the_readme_is_a_short_guide_that_lists_every_example_and_links_pages_that_exist():
    text = read('README.md')
    assert len(text.splitlines()) < 150
    first_screen = '\n'.join(text.splitlines()[:30])
    assert 'make demo' in first_screen and 'make test' in first_screen and 'pip install' in first_screen
    for name in sorted(os.listdir(os.path.join(ROOT, 'examples'))):
        if name.endswith('.py'):
            assert 'examples/' + name in text, name
    # pages other issues write (web, redis, security) may come later; every other link must lead somewhere
    for link in re.findall(r'\]\(([^)#]+)', text):
        if link not in ('docs/web.md', 'docs/redis.md', 'docs/security.md', 'docs/microbit.md'):
            assert os.path.exists(os.path.join(ROOT, link)), link


def test_make_help_lists_every_target_with_one_line():
    import shutil
    import subprocess
    if not shutil.which('make'):
        return  # no make here: nothing to list
    out = subprocess.run(['make', '-s', '-C', ROOT, 'help'], stdout=subprocess.PIPE, text=True, timeout=60).stdout
    listed = [ln.split()[1] for ln in out.splitlines() if ln.startswith('  make ')]
    phony = set()
    for ln in read('Makefile').splitlines():
        if ln.startswith('.PHONY:'):
            phony.update(ln.split()[1:])
    assert set(listed) == phony - {'all', 'help'}, out
    assert all(len(ln.split(None, 2)) == 3 for ln in out.splitlines())

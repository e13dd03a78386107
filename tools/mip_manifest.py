# Writes package.json, the manifest `mpremote mip install` reads, from the files tools/stage.py puts on a
# board (so the two never disagree; tests/cpython/test_install.py checks it), and examples/package.json, the
# web half's extras: microdot from its own repository and the dashboard. Usage: python tools/mip_manifest.py
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tools'))
import stage  # noqa: E402


def manifest(version):
    urls = [[rel, os.path.relpath(src, ROOT)] for src, rel in stage.files()]
    return {'urls': urls, 'deps': [], 'version': version}


def web_manifest(version):
    # (apart from the library's own, which installs from a checkout without a network)
    urls = [['microdot/' + n, 'github:miguelgrinberg/microdot/src/microdot/' + n] for n in stage.MICRODOT]
    return {'urls': urls + [['dashboard.py', 'dashboard.py']], 'deps': [], 'version': version}


def version():
    for line in open(os.path.join(ROOT, 'pyproject.toml')):
        if line.startswith('version'):
            return line.split('"')[1]


if __name__ == '__main__':
    for path, make in (('package.json', manifest), ('examples/package.json', web_manifest)):
        with open(os.path.join(ROOT, path), 'w') as f:
            json.dump(make(version()), f, indent=2)
            f.write('\n')

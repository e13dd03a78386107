# Builds the CPython port's optional compiled fast path; everything else is in pyproject.toml.
# optional=True: where there is no compiler (or not Linux) the install goes on and the pure-Python port is used.
import os

from setuptools import Extension, setup

setup(ext_modules=[Extension('sharedarea.port_cpython._fast', ['port_cpython/_fast.c'],
                             extra_compile_args=['-O2'],
                             # in CI a fast path that does not build is a failure, not a quiet fallback
                             optional=os.environ.get('CI') != 'true')])

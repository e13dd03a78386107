# `python -m sharedarea SPEC COMMAND ...`: the command line of port_cpython/cli.py (CPython only).
import sys

from sharedarea.port_cpython.cli import main

sys.exit(main())

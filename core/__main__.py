# `python -m sharedarea SPEC COMMAND ...`: the command line of core/cli.py (CPython).
import sys

from sharedarea.cli import main

sys.exit(main())

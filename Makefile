# Two entry points for a fresh Linux machine:
#   make run    installs the system libraries Qt needs (apt, where missing), creates .venv,
#               installs everything, opens the app (VIDEO=path opens a clip)
#   make test   installs the system libraries the UI tests need (apt, where missing), creates
#               .venv, installs everything with the dev tools, lints and runs the tests
#   make test-fast  the same without the tests marked slow (real clips, real models): the inner
#               loop while editing, under a minute
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VIDEO ?=

# Debian/Ubuntu libraries Qt needs (offscreen and under Xvfb), Xvfb itself for the real-X-server
# tests, poppler-utils to render report pages. Installed only where one is missing.
SYSTEM_PACKAGES := libegl1 libgl1 libfontconfig1 libglib2.0-0 libxkbcommon0 libdbus-1-3 \
	xvfb xauth libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 \
	libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-randr0 libxcb-xfixes0 \
	libxcb-xinerama0 libxcb-xkb1 libxrender1 libxi6 poppler-utils
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test test-fast lint clean system-packages

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# torch first: the local CPU wheel where one is on disk, else the normal index.
	$(BIN)/python -m pip install torch==2.13.0 || $(BIN)/python -m pip install "torch>=2.2"
	$(BIN)/python -m pip install -e ".[dev]"
	touch $(STAMP)

run: system-packages $(STAMP)
	$(BIN)/rhpnet-coach $(VIDEO)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

system-packages:
	@if ! command -v apt-get >/dev/null; then \
		echo "not a Debian/Ubuntu system: install Xvfb and Qt's xcb libraries yourself"; \
	elif ! dpkg -s $(SYSTEM_PACKAGES) >/dev/null 2>&1; then \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends \
			$(SYSTEM_PACKAGES) >/dev/null; \
	fi

test: system-packages $(STAMP) lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

test-fast: system-packages $(STAMP) lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -m "not slow"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

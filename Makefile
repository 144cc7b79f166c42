# lagesbild — two commands do all set-up on a fresh machine with Python 3.11+ and make:
#   make run    install, create the SQLite database, load demo data, serve http://127.0.0.1:8000
#   make test   install dev dependencies and system packages, lint, type-check, run every test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
# Background tiles of the local demo: none, so nothing leaves the machine (place names
# are drawn instead). `LAGESBILD_TILES=osm make run` shows OpenStreetMap tiles.
LAGESBILD_TILES ?=

.PHONY: run test install dev system-deps lint typecheck pytest bench boundaries clean

# The release's PostGIS package for its PostgreSQL (Debian 12: postgresql-15-postgis-3).
POSTGIS_PKG ?= $(or $(shell apt-cache search --names-only '^postgresql-[0-9]+-postgis-3$$' 2>/dev/null | sort -V | tail -1 | cut -d' ' -f1),postgresql-15-postgis-3)

# $(call apt_need,CHECK,PACKAGES,WHAT): run CHECK quietly; if it fails, install the Debian
# PACKAGES when running as root with apt-get, else stop with a message naming them.
apt_need = if ! { $(1); } >/dev/null 2>&1; then \
  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
    echo "installing $(2) (Debian) for $(3)" >&2; \
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) >/dev/null; \
  else \
    echo "error: $(3) need the Debian packages $(2). Install them: sudo apt-get install $(2)" >&2; exit 1; \
  fi; \
fi

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

dev: $(VENV)/.installed-dev

run: install
	$(BIN)/lagesbild db upgrade
	$(BIN)/lagesbild demo load
	$(BIN)/lagesbild user ensure-demo
	$(BIN)/lagesbild analyse
	LAGESBILD_TILES="$(LAGESBILD_TILES)" $(BIN)/lagesbild serve --host $(HOST) --port $(PORT)

# Browser tests need Debian's chromium, the shared rate-limit tests Debian's redis-server,
# the PostgreSQL runs of the store, web and analysis tests postgresql and PostGIS.
# Installed when missing and running as root; otherwise stop with a message naming the
# package (never skip those tests).
system-deps:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium (Debian) for the browser tests" >&2; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-dejavu-core >/dev/null; \
	  else \
	    echo "error: the browser tests need Chromium. Install it: sudo apt-get install chromium chromium-driver" >&2; \
	    exit 1; \
	  fi; \
	fi
	@# The shared rate-limit tests start a throwaway redis-server (no persistence) themselves.
	@if ! command -v redis-server >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing redis-server (Debian) for the shared rate-limit tests" >&2; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; \
	  else \
	    echo "error: the shared rate-limit tests need redis-server. Install it: sudo apt-get install redis-server" >&2; \
	    exit 1; \
	  fi; \
	fi
	@# Store, web and analysis tests also run on a throwaway PostgreSQL/PostGIS cluster they
	@# start themselves (initdb in a temporary folder, unprivileged user, free port); GDAL's
	@# ogr2ogr opens its layers the way a GIS client does.
	@$(call apt_need,ls /usr/lib/postgresql/*/bin/initdb /usr/share/postgresql/*/extension/postgis.control,postgresql $(POSTGIS_PKG),the PostgreSQL tests)
	@$(call apt_need,command -v ogr2ogr,gdal-bin,the PostGIS layer tests)

lint: dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: dev
	$(BIN)/mypy

pytest: dev system-deps
	$(BIN)/pytest

test: dev system-deps lint typecheck pytest

bench: dev
	@# wrk (Debian) is public_load.py's load generator; without it the Python clients run
	@if ! command -v wrk >/dev/null 2>&1 && [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing wrk (Debian) for benchmarks/public_load.py" >&2; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null || true; \
	fi
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/analysis.py
	$(BIN)/python benchmarks/forecast.py
	$(BIN)/python benchmarks/patrol.py
	$(BIN)/python benchmarks/gazetteer.py
	$(BIN)/python benchmarks/web.py
	$(BIN)/python benchmarks/load.py
	$(BIN)/python benchmarks/public_load.py
	$(BIN)/python benchmarks/photos.py

# Regenerate the package data in geo/data/ from the full source files in ../shared
boundaries: install
	$(BIN)/python data/boundaries/make_boundaries.py ../shared
	$(BIN)/python data/gazetteer/make_places.py ../shared/data/real

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache

# Fieldhand: `make run` sets everything up and starts the app; `make test` sets up and runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PWA_STAMP := pwa/node_modules/.installed-stamp

.PHONY: run test setup system-deps test-system-deps pwa migrate lint bench clean

run: setup pwa
	$(BIN)/python -m app.run

test: setup test-system-deps pwa
	bash scripts/test.sh

setup: system-deps $(STAMP)

system-deps:
	@bash scripts/system-deps.sh runtime

test-system-deps:
	@bash scripts/system-deps.sh test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

pwa:
	@if [ -f pwa/package.json ]; then bash scripts/build-pwa.sh; fi

migrate: setup
	$(BIN)/flask --app app db upgrade

lint: setup pwa
	$(BIN)/ruff check app emulator tests bench
	$(BIN)/ruff format --check app emulator tests bench
	$(BIN)/mypy app emulator
	cd pwa && npm run --silent typecheck

clean:
	rm -rf $(VENV) pwa/node_modules pwa/dist

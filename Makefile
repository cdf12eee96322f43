.PHONY: dev test test-unit lint install devcluster render realnode s3 system-deps clean
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## make dev: NATS, a devcluster and every service on this machine
dev: $(STAMP)
	$(VENV)/bin/urumi dev

## make test: lint, build (or reuse) the devcluster and the real node, run the whole suite
test: $(STAMP) system-deps lint devcluster render realnode s3
	$(VENV)/bin/pytest

test-unit: $(STAMP)
	$(VENV)/bin/pytest tests/unit

lint: $(STAMP)
	$(VENV)/bin/ruff check services tests bench
	$(VENV)/bin/ruff format --check services tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

devcluster:
	deploy/devcluster/build.sh >/dev/null

## the provisioner's chart renderer (deploy/render; cached by its sources)
render:
	deploy/render/build.sh >/dev/null

## the real node's binaries and images (cached by their inputs; minutes cold)
realnode: devcluster
	deploy/realnode/build.sh >/dev/null
	deploy/realnode/images/build.sh >/dev/null

## the S3-compatible server backups are tested against (versitygw; cached by version)
s3:
	deploy/s3/build.sh >/dev/null

system-deps:
	scripts/system-deps.sh

clean:
	rm -rf .urumi

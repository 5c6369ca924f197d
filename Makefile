# Every developer and CI entry point. `make test` and `make local` do all set-up themselves.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Tests prefer the Lambda runtime's Python (3.13) where the machine has it; 3.11+ works too.
# Each candidate is run before it is chosen: a pyenv shim can exist and still fail.
PYTHON_CANDIDATES := python3.13 $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3) python3
PYTHON_BIN ?= $(shell for c in $(PYTHON_CANDIDATES); do \
	if $$c -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then command -v $$c; break; fi; done)
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
export UV_PYTHON_DOWNLOADS := never
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export AGNO_TELEMETRY := false
export CDK_DISABLE_VERSION_CHECK := 1
PYTEST_WORKERS ?= 2

.PHONY: help install lint fuzz test test-unit test-integration test-infra test-e2e local local-reset layers synth deploy smoke bench soak clean

help:
	@echo "make test    install everything, lint and run every test"
	@echo "make lint    ruff (lint, format) and mypy (strict on layers/ and src/)"
	@echo "make fuzz    the property and schemathesis tests with fresh random cases"
	@echo "make local   run the whole service on http://127.0.0.1:\$${PORT:-3000} (DynamoDB Local, no Docker)"
	@echo "make bench   benchmarks against Agno's DynamoDb adapter -> bench/results/latest.json"
	@echo "make local AUTH=jwt   the same, every request needing a locally signed token (docs/local.md)"
	@echo "make synth [ENV=dev]  synthesize the CDK app (offline)"
	@echo "make deploy ENV=dev|prod   deploy the stack SessionStore-\$$ENV (ENV is required)"
	@echo "make smoke URL=... [AUTH=iam|jwt]   check a deployed API end to end (TOKEN=... for jwt)"

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python "$(PYTHON_BIN)"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed

# The Lambda layers: third-party wheels for manylinux aarch64 / cp313, built without Docker.
layers: install
	$(PY) -m cdk.layers

synth: layers
	npx cdk synth --quiet -c env=$(or $(ENV),dev)

# One stack per environment (SessionStore-<env>), and no default: a deploy always names its target.
deploy:
	@if [ -z "$(ENV)" ]; then echo "make deploy needs ENV=dev or ENV=prod (the stack SessionStore-<ENV>)" >&2; exit 2; fi
	$(MAKE) layers
	npx cdk deploy -c env=$(ENV) --require-approval never SessionStore-$(ENV)

# A post-deploy check: creates, reads, lists, pages, patches and deletes sessions under a unique
# prefix against URL, signed with SigV4 (AUTH=iam, the default) or a bearer token (AUTH=jwt, TOKEN).
smoke: install
	@if [ -z "$(URL)" ]; then echo "make smoke needs URL=<the API's base URL> (the stack's ApiUrl output)" >&2; exit 2; fi
	$(PY) -m session_store_client.smoke "$(URL)" --auth $(or $(AUTH),iam) $(if $(TOKEN),--token "$(TOKEN)")

test: install layers
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup -q -p no:cacheprovider

# ruff (lint and format) over everything, mypy strict over the layer and the client (pyproject.toml).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# The property tests and the schemathesis suite with fresh random cases (make test draws fixed ones).
fuzz: install layers
	HYPOTHESIS_PROFILE=explore $(PY) -m pytest -q -p no:cacheprovider \
		tests/integration/test_write_fuzz.py tests/integration/test_fidelity.py tests/integration/test_isolation.py \
		tests/unit/test_keys.py tests/unit/test_client_requests.py tests/e2e/test_schemathesis.py

test-unit: install
	$(PY) -m pytest tests/unit -q

test-integration: install
	$(PY) -m pytest tests/integration -q

test-infra: install layers
	$(PY) -m pytest tests/infrastructure -q

test-e2e: install layers
	$(PY) -m pytest tests/e2e -q

local: install layers
	$(PY) -m local_runtime serve --port $${PORT:-3000} --auth $(or $(AUTH),none)

local-reset:
	rm -rf .local

bench: install
	$(PY) -m bench.run
	$(PY) -m bench.lifecycle
	$(PY) -m bench.agno_drop_in

soak: install layers
	$(PY) -m bench.soak

clean:
	rm -rf cdk.out .local build

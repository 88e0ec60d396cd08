# bilheteria: the commands the README gives. Everything a target needs it installs itself,
# idempotently: Debian's python3 if missing, the project's .venv from requirements.txt.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
VENV := .venv
CHECKOV_VENV := .venv-checkov
WEB_DEPS := web/node_modules/.installed
export SAM_CLI_TELEMETRY := 0

.PHONY: test fmt lint-template tools python dev cold-starts build bench clean web web-test node chromium deploy-web

## dev: the whole system on loopback (storefront on http://127.0.0.1:8080, API on
## http://127.0.0.1:3000), seeded; Ctrl-C stops it
dev: tools web
	cargo build --workspace --bins
	target/debug/local dev $(ARGS)

## test: formatting, clippy, the template lint, the web app's checks, then every test, the
## browser journeys among them (what CI runs)
test: tools chromium
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	$(MAKE) --no-print-directory lint-template
	$(MAKE) --no-print-directory web-test
	cargo build --workspace --bins
	cargo nextest run --workspace --no-fail-fast

## cold-starts: median Init Duration of every function over 10 cold starts (release build)
cold-starts: tools
	cargo build --workspace --bins --release
	target/release/local cold-starts --release --runs 10

## build: every function's arm64 `bootstrap` in one `cargo lambda build` (cargo-lambda and zig
## from .venv, no Docker: dependencies compile once, functions link in parallel), then `sam build`
## packages them under .aws-sam/build for `sam deploy`
build: tools
	@rustup target list --installed | grep -qx aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu
	$(LAMBDA_BUILD)
	LAMBDAS_BUILT=1 PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/sam build

# Every function binary for Lambda (arm64, release), in target/lambda/<name>/bootstrap.
ROOT := $(dir $(abspath $(firstword $(MAKEFILE_LIST))))
LAMBDA_BUILD := cd $(ROOT) && PATH="$(ROOT)$(VENV)/bin:$$PATH" cargo lambda build --release --arm64 \
	--workspace --exclude local --exclude bilheteria-tests

# What `sam build` runs for each function (BuildMethod makefile, in a copy of its CodeUri):
# its bootstrap from the one build above, which runs first unless `make build` ran it.
build-%Function:
	@[ -n "$${LAMBDAS_BUILT:-}" ] || { $(LAMBDA_BUILD); }
	bin=$$(sed -n 's/^name *= *"\(.*\)"/\1/p' Cargo.toml | head -1); \
		cp "$(ROOT)target/lambda/$$bin/bootstrap" "$(ARTIFACTS_DIR)/bootstrap"

## bench: release builds measured on the local stack: a table, and bench/results.json
## (docs/benchmarks.md explains each figure); `make build` first adds the arm64 sizes
bench: tools
	cargo build --workspace --bins --release
	cargo bench -p bilheteria-tests --bench box-office

## web: the web app's static build in web/dist (types generated from api/openapi.yaml first)
web: $(WEB_DEPS)
	cd web && npm run build

## web-test: the web app's type check, lint and unit tests, then its build
web-test: $(WEB_DEPS)
	cd web && npm run check
	cd web && npm test
	cd web && npm run build

## deploy-web: publishes the web app to a deployed stack's storefront (S3 + CloudFront), with its
## config.json from the stack's outputs: make deploy-web STACK=bilheteria [REGION=sa-east-1]
deploy-web: tools web
	@test -n "$(STACK)" || { echo "usage: make deploy-web STACK=<stack name> [REGION=<region>]"; exit 2; }
	$(VENV)/bin/python web/scripts/deploy.py --stack $(STACK) $(if $(REGION),--region $(REGION))

# npm packages exactly as the lock has them, installed again only when the lock changes.
$(WEB_DEPS): web/package-lock.json | node
	cd web && npm ci --no-audit --no-fund
	@touch $@

# The browser the web app's journeys drive (playwright-core downloads none).
chromium:
	@if ! command -v chromium >/dev/null; then \
		echo "installing chromium (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi

node:
	@if ! command -v npm >/dev/null; then \
		echo "installing nodejs and npm (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; \
	fi

## lint-template: cfn-lint, sam validate --lint and checkov on template.yaml (checkov's skips are
## justified inline, `# checkov:skip=` under each resource's Type)
lint-template: tools $(CHECKOV_VENV)/.installed
	$(VENV)/bin/cfn-lint template.yaml
	$(VENV)/bin/sam validate --lint
	$(CHECKOV_VENV)/bin/checkov --quiet --compact --skip-download --framework cloudformation -f template.yaml

## fmt: format the code
fmt:
	cargo fmt --all

tools: $(VENV)/.installed
	@cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	@cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
	@cargo nextest --version >/dev/null 2>&1 || cargo install --locked cargo-nextest

python:
	@if ! command -v python3 >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then \
		echo "installing python3 and python3-venv (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-pip; \
	fi

$(VENV)/.installed: requirements.txt | python
	@[ -x $(VENV)/bin/python ] || python3 -m venv $(VENV)
	$(VENV)/bin/python -m pip install --disable-pip-version-check -q -r requirements.txt
	@touch $@

# checkov in a venv of its own: its exact boto3 pin cannot sit beside requirements.txt's.
$(CHECKOV_VENV)/.installed: requirements-checkov.txt | python
	@[ -x $(CHECKOV_VENV)/bin/python ] || python3 -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --disable-pip-version-check -q -r requirements-checkov.txt
	@touch $@

clean:
	cargo clean
	rm -rf $(VENV) $(CHECKOV_VENV) .local .aws-sam web/node_modules web/dist

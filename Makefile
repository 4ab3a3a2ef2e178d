# The two commands on a fresh machine: `make demo` and `make test`.
# Both create .venv and install the project first; once installed they start at once.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PROFILE ?= full
SERVICE ?=
PORT ?= 3000
PYTEST_ARGS ?=
# Without triton (see pyproject.toml's speech extra).
WHISPER := openai-whisper==20250625
# Cityscapes' official label table (segmentation training); without its dependencies,
# which only its scripts use (one is a typing backport that has no place on Python 3).
CITYSCAPES := cityscapesscripts==2.3.0

# No usage tracking: these machines reach package registries only.
export BENTOML_DO_NOT_TRACK := True
# Nor DVC's analytics (its daemon would also leave a file in /tmp per command).
export DVC_NO_ANALYTICS := 1
# The venv first on PATH: dvc.yaml's `python -m training.<stage>` must be the venv's.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: install browser postgres demo test lint format serve stack train bentos bench clean

install: $(STAMP)

# torch is installed first and pinned, so nothing pulls a different build in.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[all]"
	$(BIN)/python -m pip install -q --no-deps $(WHISPER) $(CITYSCAPES)
	@touch $@

demo: $(STAMP)
	MARKETPLACE_PROFILE=smoke $(BIN)/python -m stack.demo

test: $(STAMP) browser postgres
	$(BIN)/pytest $(PYTEST_ARGS)

# The browser test drives Debian's chromium (never a downloaded browser); as root it is
# installed here, otherwise that test is skipped with the reason.
browser:
	@test -x /usr/bin/chromium || { [ "$$(id -u)" = 0 ] && \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends chromium >/dev/null; } || \
		echo "chromium not installed (needs root): the browser test will be skipped"

# The studio's tests run a real PostgreSQL server from Debian's package (in a temporary
# folder, started and stopped by the tests); as root it is installed here, otherwise
# those tests are skipped with the reason.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends postgresql >/dev/null; } || \
		echo "postgresql not installed (needs root): its tests will be skipped"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@# the studio's web app: plain ES modules, served as they are (no build step)
	@if command -v node >/dev/null; then for f in bentos/studio/static/js/*.js; do \
		node --input-type=module --check < "$$f" || { echo "$$f"; exit 1; }; done; fi

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The whole stack in one process tree (the studio and every service it depends on):
#   make serve PORT=3000 PROFILE=smoke|full
# One service: make serve SERVICE=genre PORT=3000 PROFILE=smoke|full
# The service class comes from the service's own bentofile.yaml.
serve: $(STAMP)
ifeq ($(PROFILE),smoke)
	$(BIN)/python -m training.smoke >/dev/null  # the smoke genre, segment and tags models, if missing
endif
ifeq ($(SERVICE),)
	MARKETPLACE_PROFILE=$(PROFILE) $(BIN)/bentoml serve . --port $(PORT)
else
	@test -f bentos/$(SERVICE)/bentofile.yaml || { echo "unknown SERVICE '$(SERVICE)'; known: $$(ls bentos/*/bentofile.yaml | cut -d/ -f2 | tr '\n' ' ')"; exit 2; }
	MARKETPLACE_PROFILE=$(PROFILE) $(BIN)/bentoml serve \
		$$(sed -n 's/^service: *"\{0,1\}\([^"]*\)"\{0,1\} *$$/\1/p' bentos/$(SERVICE)/bentofile.yaml) \
		--port $(PORT)
endif

# Every model service on its own default port (3001-3009), for `covers run`.
stack: $(STAMP)
	MARKETPLACE_PROFILE=$(PROFILE) $(BIN)/python -m stack.local

# The training pipelines (DVC): genre (prepare -> featurize -> train -> evaluate ->
# register), segmentation (segment_prepare -> segment_train -> segment_evaluate ->
# segment_register, and segment_compare) and tag decisions (tags_prepare -> tags_train ->
# tags_evaluate -> tags_register).
train: $(STAMP)
	$(BIN)/dvc repro

# Every Bento (the model services and the studio), versioned from the git commit.
bentos: $(STAMP)
	$(BIN)/python -m bentos.build

bench: $(STAMP)
	$(BIN)/python bench/genre_throughput.py
	$(BIN)/python bench/transcribe_throughput.py
	$(BIN)/python bench/lyrics_throughput.py
	$(BIN)/python bench/art_throughput.py
	$(BIN)/python bench/segment_throughput.py
	$(BIN)/python bench/tags_throughput.py
	$(BIN)/python bench/actions_realtime.py
	$(BIN)/python bench/engine_overhead.py --stack
	$(BIN)/python bench/studio_runs.py
	$(BIN)/python bench/reliability.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info

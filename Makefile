# Two commands are the whole setup: `make lab` and `make test`.
# Both create .venv when it is missing or when pyproject.toml changed since the last install.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# JupyterLab listens on loopback only and serves the repository (so the notebooks' Contents link
# reaches README.md, and wsteach/ opens beside them); extra flags (a port, a token,
# --no-browser) via LAB_OPTS.
LAB_OPTS ?=
ROOT_OPT := $(if $(filter 0,$(shell id -u)),--allow-root,)
# pytest flags for `make test`; e.g. `make test PYTEST_OPTS="-k handshake"`.
PYTEST_OPTS ?=
# Where `make student` writes the student edition (git-ignored).
STUDENT_OUT ?= student
# Where `make book` writes the executed static site (git-ignored).
BOOK_OUT ?= build/book
# The browser's socket.io-client (notebook 09) comes from npm, installed when Node.js is here.
NPM := $(shell command -v npm 2>/dev/null)
NODE_STAMP := node_modules/.package-lock.json

.PHONY: lab test captures notebooks navigation language-info student book teaching clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	$(if $(NPM),npm ci --no-audit --no-fund --silent,@echo "npm not found: the browser parts \
	of notebook 09 and their tests will skip (install Node.js, then run make again)")

lab: $(STAMP) $(NODE_STAMP)
	$(BIN)/jupyter lab notebooks/00_start_here.ipynb --ServerApp.root_dir=. --ServerApp.ip=127.0.0.1 $(ROOT_OPT) $(LAB_OPTS)

test: $(STAMP) $(NODE_STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest tests notebooks --nbmake --nbmake-timeout=120 $(PYTEST_OPTS)

# Regenerate data/captures/*.pcap from the scripted scenarios (needs root or cap_net_raw).
captures: $(STAMP)
	$(BIN)/python -m wsteach capture --out data/captures

# Bring each notebook and its paired script (notebooks/NN_title.py) in step: the newer one wins.
notebooks: $(STAMP)
	$(BIN)/jupytext --sync notebooks/*.ipynb

# The "Previous | Contents | Next" cells of every notebook, from the README's notebook table.
navigation: $(STAMP)
	$(BIN)/python -m wsteach.classroom.navigation --write

# Each notebook's language_info as the kernel reports it (JupyterLab then opens it unmodified).
language-info: $(STAMP)
	$(BIN)/python -m wsteach.classroom.language_info --write

# The student edition: every notebook with its solution cells replaced by stubs.
student: $(STAMP)
	$(BIN)/python -m wsteach.classroom.student notebooks/[0-9][0-9]_*.ipynb --out $(STUDENT_OUT)

# Every notebook executed and rendered as a static site that opens offline.
book: $(STAMP)
	$(BIN)/python -m wsteach.classroom.book --out $(BOOK_OUT)

# The minutes-per-section tables in TEACHING.md, estimated from the notebooks.
teaching: $(STAMP)
	$(BIN)/python -m wsteach.classroom.timing --write

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

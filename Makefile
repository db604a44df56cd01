# The two commands of the README. Each creates or updates the virtual environment itself.
#   make book   execute every notebook with papermill (PROFILE=cpu by default) and render the Jupyter Book
#   make test   run the test suite
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= cpu
# Data: $MECH_DATA, else data/ if it holds CIFAR, else the project machines' ../shared/data (helpers.infra.paths,
# so that make, papermill and python agree).
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock | sha256sum | cut -c1-12)

.PHONY: book test venv browser clean-book lock pdf

venv: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --require-hashes --no-deps -r requirements.lock  # torch==2.14.1 torchvision==0.29.1 and the rest
	$(PY) -m pip install -q --no-deps -e ".[book,test]"
	$(PY) -m pip check
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	rm -f $(VENV)/.installed-* && touch $@

book: venv
	$(PY) -m helpers build --profile $(PROFILE)

# The whole book as one PDF (_build/book.pdf, linked from the front page), printed offline by Debian's chromium
pdf: book browser
	$(PY) -m helpers.book.pdf

test: venv browser
	$(PY) -m pytest -q

# Debian's chromium for the browser test (tests/test_book.py); no browser download. Installed with apt only when
# running as root (CI); anyone else is told how, and the test finds chromium where it is (or $$CHROMIUM).
browser:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || test -n "$$CHROMIUM" || \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y -q chromium >/dev/null || echo "apt could not install chromium"; \
	  else echo "note: the browser test needs Debian's chromium: sudo apt-get install chromium, or set" \
	    "CHROMIUM=/path/to/chromium; until then that one test is skipped"; fi

# Resolve the environment again (no install) and rewrite requirements.lock, hashes included; run make test and
# make book on it before committing it.
lock: venv
	$(PY) -m helpers.infra.lock

clean-book:
	rm -rf _build book/generated

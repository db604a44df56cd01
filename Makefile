# The two commands of the README. Each creates or updates the virtual environment itself.
#   make book   execute every notebook with papermill (PROFILE=cpu by default) and render the Jupyter Book
#   make test   run the test suite
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= cpu
# Data: data/ if it holds CIFAR, else the project machines' shared copy (../shared/data), else data/.
MECH_DATA ?= $(if $(wildcard data/cifar10.npz data/cifar-10-batches-py),data,$(if $(wildcard ../shared/data/cifar10.npz),../shared/data,data))
export MECH_DATA
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)

.PHONY: book test venv browser clean-book

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q torch==2.14.1 torchvision==0.29.1
	$(PY) -m pip install -q -e ".[book,test]"
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	rm -f $(VENV)/.installed-* && touch $@

book: venv
	$(PY) -m helpers.build --profile $(PROFILE)

test: venv browser
	$(PY) -m pytest -q

# Debian's chromium for the browser test (tests/test_book.py); no browser download.
browser:
	@command -v chromium >/dev/null || { $$(test "$$(id -u)" = 0 || echo sudo -n) apt-get install -y -q chromium >/dev/null \
	  || echo "chromium could not be installed: the browser test will be skipped"; }

clean-book:
	rm -rf _build book/generated

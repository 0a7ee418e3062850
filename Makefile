# MedCard — two commands on a fresh machine: `make run` and `make test`.
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed-$(shell (cat pyproject.toml; python3 --version) | sha1sum | cut -c1-12)
PYTHON3 ?= python3

.PHONY: install chromium fonts run serve test lint typecheck unit bench migration screens clean \
        i18n-extract i18n-update i18n-compile i18n-convert

$(STAMP): pyproject.toml
	@test -d $(VENV) || $(PYTHON3) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP) i18n-compile

# Text lives in gettext catalogs (ADR 0013): src/medcard/locale/<locale>/LC_MESSAGES/messages.po.
# extract: sources -> messages.pot; update: pot -> every .po (new msgids arrive untranslated and
# tests/i18n fails until they are translated); compile: .po -> .mo (not committed; `make install`
# runs it, and the app compiles a missing or stale .mo in memory). i18n-convert rewrites old
# tr('中文', 'English') calls and message_zh/_en pairs into gettext calls plus catalog entries.
LOCALE  := src/medcard/locale
PYBABEL := $(VENV)/bin/pybabel
i18n-extract: $(STAMP)
	$(PYBABEL) extract -F babel.cfg -k N_ -k NC_:1c,2 --no-location --sort-output --project=MedCard \
	  --copyright-holder="MedCard contributors" -o $(LOCALE)/messages.pot .

i18n-update: i18n-extract
	$(PYBABEL) update -N --no-wrap -i $(LOCALE)/messages.pot -d $(LOCALE) --ignore-obsolete

i18n-compile: $(STAMP)
	$(PYBABEL) compile --statistics -d $(LOCALE)

i18n-convert: $(STAMP)
	$(PY) scripts/i18n_convert.py

# Debian's Chromium for the browser tests (playwright cannot download browsers here).
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null); \
	else echo "chromium missing and not root: browser tests will be skipped (apt-get install chromium fonts-wqy-zenhei)"; fi

# The Chinese font the receipt PDFs embed (R-PAY-08); without it the PDF links answer 500.
fonts:
	@if [ -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || [ -n "$$MEDCARD_PDF_FONT" ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-zenhei >/dev/null); \
	else echo "fonts-wqy-zenhei missing and not root: receipt PDFs unavailable (apt-get install fonts-wqy-zenhei)"; fi

run: install fonts
	$(VENV)/bin/medcard db upgrade
	$(VENV)/bin/medcard demo-data
	MEDCARD_SANDBOX=$${MEDCARD_SANDBOX:-true} $(VENV)/bin/medcard serve

# The demo runs on the sandboxes (MEDCARD_SANDBOX=true; production refuses it).
serve: install
	MEDCARD_SANDBOX=$${MEDCARD_SANDBOX:-true} $(VENV)/bin/medcard serve

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy

# One pytest worker per core (pytest-xdist; each worker has a database of its own, tests/conftest.py);
# PYTEST_JOBS=0 runs in one process. The browser tests run in a second pass: Playwright's sync API
# leaves an event loop running in the worker's main thread, which the async tests cannot share.
PYTEST_JOBS ?= auto
unit: install
	$(VENV)/bin/pytest -n $(PYTEST_JOBS) --dist loadfile --ignore=tests/e2e
	$(VENV)/bin/pytest -n $(PYTEST_JOBS) --dist loadfile tests/e2e

test: install chromium fonts lint typecheck unit

bench: install
	@for script in bench/*.py; do case "$$(basename $$script)" in common.py|*_app.py|payments_ab.py) continue;; esac; { echo "== $$script"; $(PY) $$script; }; done

# Screenshots of the home, card, payment-code, elder-mode and console pages (docs/screens/).
screens: install chromium
	$(PY) scripts/screens.py

migration: install
	scripts/regen_initial_migration.sh

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

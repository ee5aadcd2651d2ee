# WeSaid: `make demo` runs the simulated month on the embedded default;
# `make test` runs lint, types and the tests against real PostgreSQL and Redis.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev
# pytest-xdist workers; each gets its own PostgreSQL database and Redis db number.
TEST_WORKERS ?= 2

.PHONY: install demo test lint typecheck pytest services translations staff-messages assets bench bench-attendance bench-pages bench-scale chaos clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $@

install: $(STAMP)

# Each catalogue is compiled when its .po is newer than its .mo (or there is none yet).
CATALOGUES := $(patsubst %.po,%.mo,$(wildcard translations/*/LC_MESSAGES/*.po))

translations: $(CATALOGUES)

translations/%.mo: translations/%.po | $(STAMP)
	$(BIN)/pybabel compile -i $< -o $@

# The staff workspace's texts: re-extract translations/staff.pot from app/web and its
# templates (file names but no line numbers, and no creation date, so that the template
# changes only when a text does), then merge it into the Welsh catalogue, where a new
# text waits for a translation and a changed one is marked fuzzy with its old Welsh as a
# start (tests/web/test_welsh.py fails until each is translated and reviewed).
STAFF_EXTRACT := -F translations/staff.cfg -k _l -k lazy_gettext --add-location=file \
	--sort-by-file --project=WeSaid \
	--header-comment="\# The staff workspace's English texts, extracted by make staff-messages."

staff-messages: install
	$(BIN)/pybabel extract $(STAFF_EXTRACT) -o translations/staff.pot .
	sed -i.orig '/^"POT-Creation-Date: /d' translations/staff.pot && rm translations/staff.pot.orig
	$(BIN)/pybabel update -i translations/staff.pot -d translations -D staff -l cy --ignore-obsolete --init-missing

# Without WESAID_ENV the app follows the production rules; the demo builds its own
# development app, but the `wesaid` group builds one first to find the command.
demo: install translations
	WESAID_ENV=development $(BIN)/wesaid demo --json demo.json

services:
	bash .ci/services.sh

lint: install
	$(BIN)/ruff check app workers tests bench
	$(BIN)/ruff format --check app workers tests bench

typecheck: install
	$(BIN)/mypy

# The browser tests inject axe-core from node_modules.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund

pytest: install services translations node_modules/.package-lock.json
	. .services/env && $(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS)

test: lint typecheck pytest

# The NHS.UK design system and htmx, built from node_modules into app/static and committed,
# so the app needs no Node: CSS without remote fonts (plus a right-to-left copy), JS, the
# icons that pages and the CSS use, and the licences.
NHSUK := node_modules/nhsuk-frontend/dist/nhsuk
NHSUK_IMAGES := favicon.ico favicon.svg nhsuk-icon-180.png nhsuk-icon-mask.svg \
	nhsuk-icon-arrow-down.svg nhsuk-icon-arrow-up.svg nhsuk-icon-arrow-up-down.svg nhsuk-icon-cross.svg
NHSUK_SASS := @use "nhsuk-frontend/dist/nhsuk" with ($$nhsuk-include-default-font-face: false, $$nhsuk-assets-path: "assets/");

assets:
	npm ci --ignore-scripts --no-audit --no-fund
	rm -rf app/static/nhsuk/assets app/static/nhsuk/*.css app/static/nhsuk/*.js* app/static/vendor
	mkdir -p app/static/nhsuk/assets/images app/static/vendor/htmx
	printf '%s\n' '$(NHSUK_SASS)' | node_modules/.bin/sass --stdin --load-path=node_modules \
		--style=compressed --no-source-map > app/static/nhsuk/nhsuk-frontend.min.css
	node_modules/.bin/rtlcss app/static/nhsuk/nhsuk-frontend.min.css app/static/nhsuk/nhsuk-frontend.rtl.min.css
	cp $(NHSUK)/nhsuk-frontend.min.js $(NHSUK)/nhsuk-frontend.min.js.map app/static/nhsuk/
	cp $(addprefix $(NHSUK)/assets/images/,$(NHSUK_IMAGES)) app/static/nhsuk/assets/images/
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/htmx.org/LICENSE app/static/vendor/htmx/
	! grep -Eq '@font-face|@import|https?:|url\("?/' app/static/nhsuk/*.css  # nothing remote

bench: install services
	$(BIN)/python -m pip install -q -e ".[dev,bench]"
	$(BIN)/python bench/dispatch.py
	$(BIN)/python bench/weighting.py

# Loads 10 million appointments into a scratch PostgreSQL database: about 15 minutes.
bench-attendance: install services
	$(BIN)/python bench/attendance.py

# Seeds an organisation of 40 clinics and 10 million appointments into a scratch
# PostgreSQL database (bench/seed_scale.py) and times every dashboard page.
bench-pages: install services
	$(BIN)/python bench/pages.py

# Seeds the same organisation with a million reminders pending and a month of a million
# survey invitations into the scratch database wesaid_scale (about 30 minutes), then
# times the clock's sweep, a results snapshot and the DNA reports, and sizes the tables
# and their indexes (bench/data_scale.py; add ARGS="--explain" for the query plans).
bench-scale: install services
	$(BIN)/python bench/data_scale.py $(ARGS)

# Every message out once and every reply kept, under faults, on the production processes
# (its own PostgreSQL, Redis and simulated Twilio; README "Chaos"): under 10 minutes.
chaos: install services
	$(BIN)/python bench/chaos.py

clean:
	rm -rf $(VENV) .services instance demo.json

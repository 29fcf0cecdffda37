# evcs.provisioning: two commands for a fresh machine.
#   make demo   set up, start the lab, provision the lab chargers from inventories/lab, print a summary
#   make test   unit tests, ansible-test sanity, ansible-lint, galaxy build, integration tests, molecule
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench
# Event-Driven Ansible (docs/ZERO_TOUCH.md): ansible-rulebook in a venv of its own (a decision environment)
EDA_VENV := .venv-eda
EDA_STAMP := $(EDA_VENV)/.installed
BUILD := $(CURDIR)/build
VERSION := $(shell sed -n 's/^version: *//p' galaxy.yml)
SANITY_ROOT := $(BUILD)/sanity/ansible_collections/evcs/provisioning
GET_PIP := $(HOME)/.ansible/test/cache/get_pip_24_2.py
export PATH := $(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export EVCS_LAB_HOME ?= $(CURDIR)/.lab
# One line per stage: "[stage] ok (12s)" or "[stage] FAILED (12s)"; the stage's own output comes first.
# `make test` runs every stage, then prints the summary and fails when any stage failed.
stage = start=$$SECONDS; echo "==> $(1)"; if $(2); then r="ok"; else r="FAILED"; fi; \
  echo "[$(1)] $$r ($$((SECONDS-start))s)" | tee -a $(BUILD)/test-summary.txt

.PHONY: help venv browser demo test unit sanity lint build integration molecule lab-up lab-down lab-status bench clean citrineos

help:
	@echo "make demo   start the lab and provision its chargers (inventories/lab)"
	@echo "make test   unit, sanity, lint, build, integration and molecule stages"
	@echo "make bench  fleet benchmark (bench/fleet.py)"
	@echo "make demo-zero-touch  a factory-fresh lab station boots and ends commissioned (ansible-rulebook)"

venv: $(STAMP)
$(STAMP): requirements.txt requirements.lock requirements-dev.txt constraints.txt lab/pyproject.toml
	@echo "==> virtual environment $(VENV) from pinned requirements"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# the collection's runtime libraries, every file checked against the hashes of requirements.lock
	@$(BIN)/python -m pip install -q --disable-pip-version-check --require-hashes -r requirements.lock
	@$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	@$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e lab
	@$(MAKE) -s browser
	@touch $@

# Headless Chromium (Debian package) renders the HTML fleet report in the integration tests. Installed where the user
# may (root with apt-get); elsewhere the test is skipped with a message, but fails under CI=true.
browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "==> headless Chromium from Debian (apt-get install chromium)"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
	    || echo "warning: apt-get install chromium failed: the HTML report test will be skipped (failed under CI=true)"; \
	else echo "note: headless Chromium is not installed and cannot be here (not root): the HTML report test is skipped"; fi

demo: venv
	@$(BIN)/python -m evcs_lab.demo

lab-up: venv
	@$(BIN)/evcs-lab up
lab-down: venv
	@$(BIN)/evcs-lab down
lab-status: venv
	@$(BIN)/evcs-lab status

test: venv
	@mkdir -p $(BUILD) && rm -f $(BUILD)/test-summary.txt
	@$(call stage,unit,$(MAKE) -s unit)
	@$(call stage,build,$(MAKE) -s build)
	@$(call stage,sanity,$(MAKE) -s sanity)
	@$(call stage,lint,$(MAKE) -s lint)
	@$(call stage,integration,$(MAKE) -s integration)
	@$(call stage,molecule,$(MAKE) -s molecule)
	@echo "make test summary:"; cat $(BUILD)/test-summary.txt
	@! grep -q FAILED $(BUILD)/test-summary.txt

unit: venv
	@$(BIN)/pytest -q tests/unit

build: venv
	@mkdir -p $(BUILD)
	@rm -f $(BUILD)/evcs-provisioning-*.tar.gz
	@$(BIN)/ansible-galaxy collection build --force --output-path $(BUILD) . >/dev/null
	@tar -tzf $(BUILD)/evcs-provisioning-$(VERSION).tar.gz | grep '^plugins/modules/.*\.py$$' >/dev/null \
	  || { echo "the built collection holds no modules"; exit 1; }
	@! tar -tzf $(BUILD)/evcs-provisioning-$(VERSION).tar.gz | grep -E '^(audit|reports|lab|\.lab)/|\.(jsonl|key)$$' \
	  || { echo "the built collection holds operator data or lab files (above): fix build_ignore in galaxy.yml"; exit 1; }
	@echo "built $(BUILD)/evcs-provisioning-$(VERSION).tar.gz ($$(tar -tzf $(BUILD)/evcs-provisioning-$(VERSION).tar.gz | wc -l) entries)"

# ansible-test refuses symlinked paths and needs a git repo: test exactly what `build` ships,
# unpacked under ansible_collections/evcs/provisioning and committed to a throwaway repo.
sanity: build
	@mkdir -p $(dir $(GET_PIP)) && cp tests/sanity/get_pip_offline.py $(GET_PIP)
	@rm -rf $(BUILD)/sanity && mkdir -p $(SANITY_ROOT)
	@tar -xzf $(BUILD)/evcs-provisioning-$(VERSION).tar.gz -C $(SANITY_ROOT)
	@mkdir -p $(SANITY_ROOT)/tests/sanity && cp tests/sanity/ignore-*.txt $(SANITY_ROOT)/tests/sanity/ 2>/dev/null || true
	@cd $(SANITY_ROOT) && git init -q && git add -A && git -c user.name=ci -c user.email=ci@localhost commit -qm sanity
	@n=$$(cd $(SANITY_ROOT) && git ls-files | wc -l); test $$n -gt 10 || { echo "sanity copy holds only $$n files"; exit 1; }
	@cd $(SANITY_ROOT) && $(BIN)/ansible-test sanity --local --python 3.11 --color no

lint: venv
	@$(BIN)/ansible-lint --profile production -q

# CitrineOS for the citrineos backend tests: Debian packages (as root) and the build, cached in ~/.cache/evcs-lab
# by the source's sha256 (CITRINEOS_SRC, default ../shared/third_party/citrineos/citrineos-core-1.8.3.tar.gz);
# without a source it says so and the CitrineOS tests skip.
citrineos: venv
	@$(BIN)/python -m evcs_lab.citrineos prepare

integration: venv citrineos
	@echo "==> integration tests in two shards at once: the modules sharing the session lab (in their order), the rest"
	@( set -o pipefail; $(BIN)/pytest -q -m integration --lab-shard session-lab --durations=15 \
	     --basetemp $${TMPDIR:-/tmp}/evcs-integration-session-lab tests/integration 2>&1 | sed -u 's/^/[session-lab] /' ) & \
	 session=$$!; \
	 ( set -o pipefail; $(BIN)/pytest -q -m integration --lab-shard others --durations=15 \
	     --basetemp $${TMPDIR:-/tmp}/evcs-integration-others tests/integration 2>&1 | sed -u 's/^/[others] /' ) & \
	 others=$$!; \
	 status=0; wait $$session || status=1; wait $$others || status=1; \
	 echo "==> integration shards: $$([ $$status = 0 ] && echo both passed || echo FAILED)"; exit $$status

molecule: venv
	@set -e; for s in $$(ls molecule); do \
	  test -f molecule/$$s/molecule.yml || continue; \
	  echo "--> molecule scenario $$s"; \
	  $(BIN)/molecule test -s $$s; \
	done

bench: venv $(BENCH_STAMP)
	@$(BIN)/python bench/fleet.py

# the benchmark's own libraries (matplotlib for its figure), pinned in requirements-bench.txt; not the collection's
$(BENCH_STAMP): requirements-bench.txt $(STAMP)
	@echo "==> benchmark libraries (matplotlib) from requirements-bench.txt"
	@$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-bench.txt -c constraints.txt
	@touch $@

clean:
	-@$(BIN)/evcs-lab down 2>/dev/null
	rm -rf $(BUILD) .pytest_cache

# Event-Driven Ansible (docs/ZERO_TOUCH.md)
.PHONY: eda demo-zero-touch
# ansible-rulebook needs a Java 17+ runtime: Debian's openjdk-17-jre-headless, installed here when missing and root.
eda: venv $(EDA_STAMP)
$(EDA_STAMP): requirements-eda.txt
	@echo "==> Event-Driven Ansible: Java runtime and $(EDA_VENV) from requirements-eda.txt"
	@if ! command -v java >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing openjdk-17-jre-headless (apt-get)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q openjdk-17-jre-headless >/dev/null; \
	  else echo "ansible-rulebook needs Java 17+: install openjdk-17-jre-headless (as root: make eda)"; exit 1; fi; \
	fi
	@test -x $(EDA_VENV)/bin/python || $(PYTHON) -m venv $(EDA_VENV)
	@$(EDA_VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements-eda.txt
	@touch $@

demo-zero-touch: eda
	@$(BIN)/python -m evcs_lab.demo_zero_touch

# the integration tests run the zero-touch rulebook (tests/integration/test_zero_touch.py)
integration: eda

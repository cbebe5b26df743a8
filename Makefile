# ebscan: `make demo` and `make test` set up .venv on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-slurm lint chromium bench model clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Reinstall when the package metadata changes.
$(VENV)/.installed: pyproject.toml $(BIN)/activate
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

# The demo survey: simulated sectors served by a local stand-in for MAST, the whole
# workflow, a small CALNet trained for a few epochs.
demo: $(VENV)/.installed
	$(BIN)/python -m ebscan.demo

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check workflow

# The vetting page is tested in Debian's Chromium (driven by Playwright, which
# downloads no browser of its own): installed here where apt-get can (as root);
# elsewhere that test is skipped, and its skip says how to get it.
chromium:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "make test: no chromium, the vetting page test will be skipped" \
			"(sudo apt-get install chromium)"; \
	fi

test: lint chromium
	$(BIN)/python -m pytest

# The demo on a one-node SLURM cluster started on 127.0.0.1 (installs Debian's
# slurm-wlm and munge when missing; needs root): tests/test_slurm.py.
test-slurm: $(VENV)/.installed
	$(BIN)/python -m pytest -m slurm tests/test_slurm.py

# The pretrained CALNet, rebuilt from ../shared (ebscan.learn.recipe, config/pretrained.yaml;
# docs/model-card.md says how long it takes) and installed into the package with its model
# card data; then the benches that measure the installed model.
model: $(VENV)/.installed
	$(BIN)/python -m ebscan.learn.recipe --config config/pretrained.yaml --work build/pretrained --install
	$(BIN)/python bench/pretrained.py
	$(BIN)/python bench/contact_periods.py
	$(BIN)/python bench/detached_periods.py

bench: $(VENV)/.installed
	$(BIN)/python bench/preprocess.py
	$(BIN)/python bench/spline_modes.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache src/*.egg-info .snakemake

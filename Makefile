# Two entry points: `make demo` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

SAMPLES := sample-data
REPORT  := reports/demo-report.html

# Generate realistic sample CloudTrail logs (with deliberately bad files), scan them, print
# the findings and write the HTML report. scan exits 1 because the samples hold attacks.
demo: $(VENV)/.installed
	rm -rf $(SAMPLES)
	$(BIN)/python -m trailguard.samples $(SAMPLES)
	mkdir -p reports
	$(BIN)/trailguard scan $(SAMPLES) --format table; test $$? -le 1
	$(BIN)/trailguard scan $(SAMPLES) --format html --output $(REPORT) 2>/dev/null; test $$? -le 1
	@echo
	@echo "HTML report: $(abspath $(REPORT))"
	@echo "Next: $(BIN)/trailguard explain DeleteSSHPublicKey"

test: $(VENV)/.installed
	$(BIN)/python -m pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check src tests bench

clean:
	rm -rf $(VENV) build dist src/*.egg-info

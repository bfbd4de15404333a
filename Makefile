# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install when the project metadata changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,pdf]'
	touch $@ $(VENV)/.installed

# The main job: validate and run every bundled example, then compare the service-desk
# scenarios against their OKRs; JSON results and the HTML reports go to out/.
demo: $(VENV)/.installed
	@mkdir -p out
	$(BIN)/procsim validate models/*.yaml
	@for m in models/*.yaml; do \
	  echo; echo "== $$m"; \
	  $(BIN)/procsim run $$m --json out/$$(basename $$m .yaml).json \
	    --report out/$$(basename $$m .yaml).html || exit $$?; \
	done
	@echo; echo "== Will the service-desk improvements reach the OKRs?"
	$(BIN)/procsim compare models/service_desk.yaml scenarios/service_desk_*.yaml \
	  --okrs okrs/service_desk.yaml --json out/compare_service_desk.json \
	  --report out/service_desk_decision.html
	@echo; echo "== The cheapest staffing that meets the service-desk OKRs (docs/optimise.md)"
	$(BIN)/procsim optimise models/service_desk.yaml --okrs okrs/service_desk_staffing.yaml \
	  --vary resources.agents.capacity=4..9 --vary resources.specialists.capacity=2..5 \
	  -o out/service_desk_best.yaml --force --json out/optimise_service_desk.json \
	  --report out/service_desk_optimise.html
	@echo; echo "Open out/service_desk_decision.html in a browser: the report for decision-makers."

test: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src
	$(BIN)/python -m pytest -n auto

bench: $(VENV)/.installed
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .mypy_cache .ruff_cache

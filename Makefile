VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: run test lint bench docs golden clean extras

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

# The optional extras (object stores, the Dask engine) and moto's S3 server, so that tests/test_cluster.py runs
# rather than being skipped; .ci/run installs them. `make run` and the default install stay without them.
$(VENV)/.installed-extras: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test,cloud,dask,test-cluster]'
	touch $@ $(VENV)/.installed $(VENV)/.installed-test

extras: $(VENV)/.installed-extras

run: $(VENV)/.installed
	$(BIN)/lossctl eval sample_data/regression.csv
	$(BIN)/lossctl eval sample_data/regression.csv -l mse,mae,huber:delta=5 --by segment --quiet
	$(BIN)/lossctl eval sample_data/binary.parquet
	$(BIN)/lossctl eval sample_data/predictions.csv --targets sample_data/targets.csv --on id -l mse,mae --quiet
	$(BIN)/lossctl eval sample_data/multiclass.parquet --pred 'logit_*' --target label -l ce,focal_multiclass --quiet

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q

lint: $(VENV)/.installed-test
	$(BIN)/ruff check lossctl tests benchmarks docs
	$(BIN)/ruff format --check lossctl tests benchmarks docs
	$(BIN)/mypy

$(VENV)/.installed-bench: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $@ $(VENV)/.installed

bench: $(VENV)/.installed-bench
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/cluster.py

docs: $(VENV)/.installed-test
	$(BIN)/python docs/generate.py
	$(BIN)/python docs/readme.py

$(VENV)/.installed-reference: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test,reference]'
	touch $@ $(VENV)/.installed $(VENV)/.installed-test

# Regenerates every golden file from the reference libraries (torch, scikit-learn, SciPy, Keras); deterministic,
# so a rerun on the same machine leaves no diff.
golden: $(VENV)/.installed-reference
	for generator in tests/reference/generate_*.py; do $(BIN)/python $$generator || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache

# orion_cli: `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev

.PHONY: install demo test lint fmt bench bench-quality clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,postgresql,gp]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	cd configs/demo && PATH="$(CURDIR)/$(VENV)/bin:$$PATH" orion hunt -n demo --exp-max-trials 20 --n-workers 2 \
	  python train.py --lr~'loguniform(1e-4, 1.0)' --layers~'randint(1, 6)' \
	  --activation~"choices(['relu', 'tanh'])" --epochs 3
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" orion status -n demo

test: $(STAMP)
	$(PY) -m pytest -n 2 -q

lint: $(STAMP)
	$(VENV)/bin/ruff check orion_cli tests
	$(VENV)/bin/ruff format --check orion_cli tests
	$(VENV)/bin/mypy orion_cli/core orion_cli/storage

fmt: $(STAMP)
	$(VENV)/bin/ruff format orion_cli tests
	$(VENV)/bin/ruff check --fix orion_cli tests

bench: $(STAMP)
	$(PY) tests/benchmarks/bench_hunt.py
	$(PY) tests/benchmarks/bench_storage.py
	$(PY) tests/benchmarks/bench_pg.py
	$(PY) tests/benchmarks/bench_throughput.py

bench-quality: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) tests/benchmarks/bench_quality.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .mypy_cache

# huiqi: two commands from a fresh clone.
#   make demo   creates .venv, loads the demo county into var/demo.db and shows its compliance
#   make test   creates .venv, runs ruff, mypy and the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint format messages system install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

system:
	sh scripts/system-packages.sh

lint: $(STAMP)
	$(BIN)/ruff check scheduler tests bench
	$(BIN)/ruff format --check scheduler tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format scheduler tests bench
	$(BIN)/ruff check --fix scheduler tests bench

# The interface words: scheduler/locale/<lang>/LC_MESSAGES/huiqi.po, compiled to huiqi.mo.
messages: $(STAMP)
	$(BIN)/pybabel compile --statistics -d scheduler/locale -D huiqi

# Two processes (pytest-xdist), each test file in one of them. Bytecode is cached even where
# the environment says not to (PYTHONDONTWRITEBYTECODE): each of the suite's processes
# would otherwise compile huiqi again.
test: $(STAMP) system lint
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -n auto --dist loadfile

demo: $(STAMP)
	sh scripts/demo.sh

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

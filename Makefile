# hpd3d: `make demo` runs the main job on the toolkit's own data, `make test` the tests.
# Both set everything up first (tools/setup.sh: a quick no-op when already done).
PY := .venv/bin/python
DEMO_OUT ?= out/demo

.PHONY: setup demo test test-slow bench clean

setup:
	@bash tools/setup.sh

demo: setup
	$(PY) -m tools.demo out=$(DEMO_OUT)

test: setup
	$(PY) -m pytest

test-slow: setup
	$(PY) -m pytest -m slow

bench: setup
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf out outputs multirun .pytest_cache

# tenancy: every target sets up what it needs (venv, PostgreSQL, SARIF validator) on a fresh machine.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml | sha1sum | cut -c1-12)
PLANS  := out/plans

.PHONY: venv postgres sarif-multitool plan test lint typecheck unit bench schema inventory clean

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	@rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP)

postgres:
	@bash .ci/ensure-postgres.sh

sarif-multitool:
	@bash .ci/ensure-sarif-multitool.sh

## The main job: offline plan of every example stack, with a readable summary.
plan: venv
	$(VENV)/bin/tenancy plan --all --json $(PLANS) --markdown $(PLANS)
	@echo "plans and summaries written to $(PLANS)/"

## The whole suite: lint, types, unit, component, policy, real-PostgreSQL and SARIF-validator tests.
test: venv postgres sarif-multitool lint typecheck unit

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: venv
	$(VENV)/bin/mypy

unit: venv
	$(PY) -m pytest -n auto

## Figures, never assertions: plan vs bare loop, policy throughput, cost vs plan, RLS overhead on 1M rows,
## 500 clients through PgBouncer vs direct, a live 1M-row tenant move vs pg_dump | pg_restore,
## export + erase of a 1M-row pool tenant next to busy neighbours, db apply of 1,000 tenants (first, no-op).
bench: venv postgres
	$(PY) benchmarks/bench_plan.py
	$(PY) benchmarks/bench_plan.py --stacks
	$(PY) benchmarks/bench_policies.py
	$(PY) benchmarks/bench_cost.py
	$(PY) benchmarks/rls_bench.py
	$(PY) benchmarks/bench_pooler.py
	$(PY) benchmarks/bench_move.py
	$(PY) benchmarks/bench_offboard.py
	$(PY) benchmarks/bench_db_apply.py

schema: venv
	$(VENV)/bin/tenancy schema --output stacks/tenants.schema.json

## Rewrite tests/inventory/<stack>.yaml from fresh plans (commit them with the change).
inventory: venv
	$(PY) -m tests.support.inventory

clean:
	rm -rf out .pytest_cache .mypy_cache .ruff_cache

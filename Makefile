# Jakarta One backend: every target works from a fresh clone (Python 3.11, no Docker, no AWS account).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: help install run token demo test test-fast bench audit-verify trace diagram template clean

help:
	@echo "make run     serve the local cloud (API, emulated AWS, Dukcapil, Bank DKI) until Ctrl-C"
	@echo "make token ROLE=OPERATOR  a bearer token for the running local cloud (AGENCY=DISDIK for an AGENCY_HEAD)"
	@echo "make demo    an agency's batch of 1,200 applicants end to end, then a summary"
	@echo "make test    the whole suite (unit, API, integration on moto, end to end)"
	@echo "make bench   figures as 'name: value' lines"
	@echo "make audit-verify  check the hash chains of the running local cloud's audit trail (exit 1 if broken)"
	@echo "make trace   which tests enforce which article of Pergub DKI 145/2017"
	@echo "make diagram the enrolment state machine as Mermaid, drawn from step_functions/"
	@echo "make template the deployable CloudFormation template, linted"

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) -m localcloud $(RUN_ARGS)

token: $(STAMP)
	@test -n "$(ROLE)" || { echo "make token ROLE=DISKOMINFOTIK_ADMIN|AGENCY_HEAD|OPERATOR|BANK_PARTNER|RESIDENT [AGENCY=DISDIK]" >&2; exit 2; }
	@$(PY) -m localcloud.tokens --role $(ROLE) $(if $(AGENCY),--agency $(AGENCY))

demo: $(STAMP)
	$(PY) -m demo

test: $(STAMP)
	$(PY) -m pytest

test-fast: $(STAMP)
	$(PY) -m pytest -m "not e2e"

bench: $(STAMP)
	$(PY) -m bench

# The audit trail of the cloud `make run` serves (stage "local", AWS on port 5000); another stage or
# endpoint: AUDIT_TABLE=... AWS_ENDPOINT_URL=... $(PY) -m chalicelib.audit.verify
LOCAL_AWS ?= http://127.0.0.1:5000
audit-verify: $(STAMP)
	AUDIT_TABLE=$${AUDIT_TABLE:-jakarta-one-local-audit} AWS_ENDPOINT_URL=$(LOCAL_AWS) \
	AWS_DEFAULT_REGION=ap-southeast-3 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local \
	$(PY) -m chalicelib.audit.verify

trace: $(STAMP)
	$(PY) -m pytest --quiet --trace-regulation; test $$? -eq 5 -o $$? -eq 0

diagram: $(STAMP)
	$(PY) -m infra.diagram

template: $(STAMP)
	$(PY) -m infra.template --out build/template.json
	$(VENV)/bin/cfn-lint build/template.json

clean:
	rm -rf build .pytest_cache .hypothesis

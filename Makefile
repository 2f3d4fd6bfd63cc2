# The two commands of the README's quick start. Both create .venv/ when missing
# and install the project into it (editable) before doing their job; the install
# step is skipped when pyproject.toml has not changed since the last install.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: demo test install clean

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/careerload demo

# Three pytest processes on two cores: most of the suite waits on real load runs
# (seconds of wall time, little CPU), so a third process fills the waits. Each
# process has its own embedded stack; --dist loadfile keeps a module's
# module-scoped fixtures (seeded accounts, a shared run) in one process.
test: $(STAMP)
	$(VENV)/bin/python -m pytest tests -n 3 --dist loadfile

clean:
	rm -rf $(VENV) results .careerload

# Two commands for a fresh machine (Python >= 3.11):
#   make quickstart   install, then train, evaluate and tag with the small corpus in data/
#   make test         install, then lint and run the test suite
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
RUN := runs/quickstart

.PHONY: install quickstart test lint clean

$(BIN)/seqtag: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c constraints.txt -e ".[test]"
	touch $@

install: $(BIN)/seqtag

# --preset pos: one network, to be quick (without it seqtag chooses an ensemble of three for a
# corpus this size, three times the time). Threads: the default, one, which a busy machine
# slows by 1.1x where two threads were over 2.5x slower (benchmarks/results/threads-under-load).
quickstart: install
	mkdir -p $(RUN)
	$(BIN)/seqtag train data/en_ewt-excerpt-train.conllu --dev data/en_ewt-excerpt-dev.conllu -o $(RUN)/upos.model --preset pos
	$(BIN)/seqtag eval -m $(RUN)/upos.model data/en_ewt-excerpt-test.conllu
	cat data/sample.txt | $(BIN)/seqtag tag -m $(RUN)/upos.model --format tsv

lint: install
	$(BIN)/ruff check seqtag tests benchmarks
	$(BIN)/ruff format --check seqtag tests benchmarks

test: lint
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) runs *.egg-info

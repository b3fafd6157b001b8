"""Shared fixtures: real text and speech from the bundled data (no synthetic stand-ins)."""

from __future__ import annotations

import signal

import pytest

from gencomp import datasets, modalities

# A shell starts a background job (`make test &`) with SIGINT ignored, and the commands
# the tests start would inherit that: the tests' Ctrl-C would then do nothing (a sample
# never ended, a decompress finished) and they would fail on the run, not on gencomp.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def corpus() -> bytes:
    """The bundled English prose (Wikipedia lead sections)."""
    return datasets.text_corpus().data


@pytest.fixture(scope="session")
def prose(corpus: bytes) -> bytes:
    """2 KB of real English prose from the middle of the corpus (one paper chunk)."""
    start = len(corpus) // 2
    return corpus[start : start + 2048]


@pytest.fixture(scope="session")
def speech_bytes() -> bytes:
    """The bundled speech as the paper's 8-bit bytes (16 kHz, high byte + 128)."""
    return modalities.audio_to_bytes(modalities.read_audio(datasets.bundled_speech()).samples)


@pytest.fixture(scope="session")
def llm_predictor():
    """The bundled SmolLM2 as a predictor, loaded once per test session (the first run
    of a machine also builds the de-quantised cache, about 40 s). Tests that need a
    fresh beam build ``LLMPredictor(loaded=llm_predictor.loaded)``: no reload."""
    import gencomp

    return gencomp.load_predictor("llm:device=cpu")

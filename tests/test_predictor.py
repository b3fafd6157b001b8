"""The Predictor contract and the spec registry."""

from __future__ import annotations

import numpy as np
import pytest

import gencomp
from gencomp.errors import SpecError
from gencomp.predictor import check_logprobs, crop, from_code_lengths, normalize
from gencomp.spec import parse_spec

COMPRESSORS = ["gzip", "zstd", "lzma", "bz2"]


def test_normalize_gives_a_distribution():
    logprobs = normalize(np.array([0.0, 1.0, 2.0, 1000.0, -1000.0]))
    assert np.exp(logprobs).sum() == pytest.approx(1.0)
    assert np.all(np.isfinite(logprobs))


def test_normalize_gives_a_row_the_same_floats_alone_or_in_a_stack():
    """Coded files depend on these floats: one distribution (its own fast path) and the
    rows of a stack must agree bit for bit. Scores drawn here, over a wide range."""
    stack = np.random.default_rng(5).normal(size=(64, 256)) * np.geomspace(0.01, 300, 64)[:, None]
    rows = normalize(stack)
    assert all(np.array_equal(normalize(row), expected) for row, expected in zip(stack, rows))


def test_code_lengths_follow_the_paper():
    bits = np.full(256, 80.0)
    bits[65] = 72.0  # one byte cheaper than the others
    probs = np.exp(from_code_lengths(bits))
    assert probs[65] / probs[66] == pytest.approx(2.0**8)
    check_logprobs(from_code_lengths(bits))


@pytest.mark.parametrize(
    "bad",
    [np.zeros(256), np.full(255, -np.log(255)), np.where(np.arange(256) == 0, 0.0, -np.inf)],
)
def test_contract_violations_are_caught(bad):
    with pytest.raises(ValueError):
        check_logprobs(bad)


def test_crop_keeps_the_last_bytes():
    assert crop(b"abcdef", 4) == b"cdef"
    assert crop(b"abc", 4) == b"abc"


@pytest.mark.parametrize("spec", COMPRESSORS)
def test_every_compressor_keeps_the_contract(spec, prose):
    """The defaults, and on long contexts their scoring without the adaptive weights (a
    fresh long context costs them 64 scorings first; their contract: test_mixture.py)."""
    predictor = gencomp.load_predictor(spec)
    for context in (b"", prose[:1], prose[:40]):
        check_logprobs(predictor.logprobs(context))
    fixed = gencomp.load_predictor(f"{spec}:adapt=false")
    for context in (prose[:700], prose):
        check_logprobs(fixed.logprobs(context))


def test_spec_options_are_parsed_and_typed():
    family, options = parse_spec("gzip:level=6,context_window=4096")
    assert family.name == "gzip" and options == {"level": 6, "context_window": 4096}
    predictor = gencomp.load_predictor("zstd:level=19,paper")
    assert predictor.spec == "zstd:level=19,context_window=2048,paper"
    refined = gencomp.load_predictor("zstd:level=19")
    assert refined.spec.startswith("zstd:level=19,context_window=2048,horizon=")
    assert gencomp.load_predictor(predictor.spec).spec == predictor.spec


def test_llm_takes_a_bare_model_name():
    family, options = parse_spec("llm:HuggingFaceTB/SmolLM2-360M,device=cpu")
    assert family.name == "llm"
    assert options == {"model": "HuggingFaceTB/SmolLM2-360M", "device": "cpu"}


@pytest.mark.parametrize(
    "spec, message",
    [
        ("gzipp", "unknown model 'gzipp'; known models: gzip, zstd, lzma, bz2, ppmd, llm, png, flac, ppm, ngram, mix"),
        ("gzip:lvl=3", "gzip has no option 'lvl'"),
        ("gzip:paper,horizon=4", "gzip:paper is the one-step paper method; drop horizon"),
        ("gzip:level=high", "option level='high' is not a valid int"),
        ("gzip:9", "write options as key=value"),
    ],
)
def test_bad_specs_say_what_is_wrong(spec, message):
    with pytest.raises(SpecError, match=message.replace("(", r"\(")):
        gencomp.load_predictor(spec)


@pytest.mark.parametrize("spec", ["gzip:level=10", "zstd:level=23", "bz2:level=0", "gzip:context_window=0"])
def test_out_of_range_options_are_refused(spec):
    with pytest.raises(ValueError):
        gencomp.load_predictor(spec)


def test_families_list_their_options():
    names = {family.name: [o.name for o in family.options] for family in gencomp.families()}
    assert names["gzip"][:2] == ["level", "context_window"] and "paper" in names["gzip"]
    assert "device" in names["llm"]

"""Mixtures of predictors (gencomp/mixture.py) and the n-gram context model (gencomp/ngram.py):
the spec grammar, the Predictor contract, coding round trips, and the Bayesian layer's bound
from first principles. Components are real (n-gram counts, gzip's fast preset) on real prose
from the bundled corpus; no language model here (too slow for the suite's budget)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from typer.testing import CliRunner

import gencomp
from gencomp import coding
from gencomp.mixture import WARMUP, Mixture, leaf_logprobs, node_logits
from gencomp.errors import SpecError
from gencomp.predictor import check_logprobs, normalize
from gencomp.spec import load_predictor
from gencomp_cli.main import app

CHEAP = "mix:ngram:order=1+ngram:order=3"


def test_node_logits_and_leaves_are_inverse():
    """A byte distribution through the bit tree and back is itself."""
    logprobs = normalize(np.random.default_rng(0).normal(size=256) * 3)  # made here
    assert np.allclose(leaf_logprobs(node_logits(logprobs)), logprobs, atol=1e-12)


@pytest.mark.parametrize(
    "spec, components",
    [
        ("mix:gzip+zstd", ["gzip", "zstd"]),
        ("mix:gzip:fast+ngram:order=2", ["gzip", "ngram"]),
        ("mix:(gzip:level=6,horizon=4)+(ngram:order=1),weights=1:3,rate=0.01", ["gzip", "ngram"]),
        ("mix:(mix:ngram+ngram:order=0)+zstd:paper", ["mix", "zstd"]),
    ],
)
def test_specs_parse_and_round_trip(spec, components):
    mixture = load_predictor(spec)
    assert [c.spec.partition(":")[0] for c in mixture.components] == components
    assert load_predictor(mixture.spec).spec == mixture.spec


def test_options_reach_the_components_and_the_mixer():
    mixture = load_predictor("mix:(gzip:level=6,horizon=4)+ngram:order=1,weights=1:3,rate=0.01,share=0")
    gzip, ngram = mixture.components
    assert (gzip.level, gzip.refine.horizon, ngram.order) == (6, 4, 1)
    assert mixture.weights.tolist() == [0.25, 0.75]
    assert (mixture.rate, mixture.share) == (0.01, 0.0)
    assert mixture.context_window == 2048
    assert "zlib" in mixture.fingerprint and "ngram" in mixture.fingerprint


@pytest.mark.parametrize(
    "spec, message",
    [
        ("mix", "a mixture needs components joined by +"),
        ("mix:gzip", "a mixture needs at least two components"),
        ("mix:gzip+nosuch", "unknown model 'nosuch'; known models: gzip"),
        ("mix:gzip+gzip", "mixture component gzip is given twice"),
        ("mix:gzip+gzip:level=9", "is given twice"),  # the same predictor, written two ways
        ("mix:gzip+zstd,weights=1:x", "weights='1:x' do not parse: give 2 positive numbers joined by ':', e.g. weights=1:1"),
        ("mix:gzip+zstd,weights=1:2:3", "need 2 positive numbers"),
        ("mix:gzip+zstd,weights=1:-1", "need 2 positive numbers"),
        ("mix:(gzip:level=6+zstd", "unclosed '('"),
        ("mix:gzip)+zstd", "unbalanced ')'"),
        ("mix:gzip++zstd", "empty component"),
        ("mix:gzip+zstd,rate=0", "rate must be in (0, 1]"),
        ("mix:gzip+zstd,share=1", "share must be in [0, 1)"),
        ("mix:gzip+zstd,bogus=1", "mix has no option 'bogus'"),
        ("ngram:order=9", "ngram order must be 0..8"),
    ],
)
def test_bad_specs_say_what_would_work(spec, message):
    with pytest.raises(SpecError, match=None) as error:
        load_predictor(spec)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_ngram_counts_follow_witten_bell_by_hand():
    """Order 0 after b"aab": counts a 2, b 1 (3 in all, 2 distinct): p(a) = (2 + 2/256) / 5."""
    logprobs = load_predictor("ngram:order=0").logprobs(b"aab")
    assert math.isclose(math.exp(logprobs[ord("a")]), (2 + 2 / 256) / 5, rel_tol=1e-12)
    assert math.isclose(math.exp(logprobs[ord("z")]), (2 / 256) / 5, rel_tol=1e-12)


@pytest.mark.parametrize("spec", ["ngram:order=3", CHEAP])
def test_contract_and_the_walk_equals_a_fresh_start(spec, prose):
    """Every context of a walk keeps the contract, and its distribution is the one a fresh
    predictor gives for that context alone, bit for bit, up to WARMUP bytes (a fresh
    context is walked from its start there)."""
    walker = load_predictor(spec)
    results = [walker.logprobs(prose[:i]) for i in range(WARMUP + 1)]
    for i in (0, 1, WARMUP // 2, WARMUP):
        check_logprobs(results[i])
        assert np.array_equal(load_predictor(spec).logprobs(prose[:i]), results[i])
    assert np.array_equal(walker.logprobs(prose[:WARMUP // 2]), results[WARMUP // 2])  # going back walks anew


class Counted:
    """A component passed through, counting its calls."""

    def __init__(self, spec: str) -> None:
        self.inner = load_predictor(spec)
        self.spec, self.context_window, self.fingerprint = self.inner.spec, self.inner.context_window, ""
        self.calls = 0

    def logprobs(self, context: bytes) -> np.ndarray:
        self.calls += 1
        return self.inner.logprobs(context)


def test_a_long_prompt_costs_warmup_calls_and_then_walks_on(prose):
    """A fresh context of 1,500 bytes is learned from its last WARMUP bytes (WARMUP + 1
    calls of each component, not 1,501); the weights did learn there (the result is not the
    untrained mixture's), and the same calls give the same numbers, also walking on."""
    prompt = prose[:1500]
    parts = [Counted("ngram:order=1"), Counted("ngram:order=3")]
    warm = Mixture(parts)
    first = warm.logprobs(prompt)
    check_logprobs(first)
    assert [p.calls for p in parts] == [WARMUP + 1] * 2
    untrained = Mixture([load_predictor("ngram:order=1"), load_predictor("ngram:order=3")])
    untrained.logprobs(b"")  # its state stays the fresh one; ask the prompt's experts through it
    assert not np.array_equal(first, untrained._predict(prompt))
    walked = [warm.logprobs(prose[:i]) for i in range(1500, 1520)]
    again = load_predictor(CHEAP)
    assert all(np.array_equal(again.logprobs(prose[:i]), w) for i, w in zip(range(1500, 1520), walked))


def test_round_trip_through_the_coder(prose):
    mixture = load_predictor("mix:(gzip:fast)+ngram:order=2")
    data = prose[:300]
    codes = coding.encode(mixture, data, chunk_size=150)
    assert coding.decode(load_predictor(mixture.spec), [c.data for c in codes], [150, 150]) == data


def test_round_trip_of_a_stream_whose_window_slides(prose):
    """Chunk size 0: one stream, so the 64-byte window slides and the weights go on learning."""
    mixture = load_predictor("mix:(ngram:order=1,context_window=64)+(ngram:order=2,context_window=64)")
    data = prose[:400]
    codes = coding.encode(mixture, data, chunk_size=0)
    assert coding.decode(load_predictor(mixture.spec), [c.data for c in codes], [len(data)]) == data


def _bits(spec: str, data: bytes) -> float:
    return coding.encode_chunk(load_predictor(spec), data).ideal_bits


def test_never_worse_than_the_best_component_by_more_than_the_bound(corpus):
    """Whatever the data, the Bayesian layer codes within log2(1/prior) + n·log2(1/(1 − share))
    bits of its best expert (each component has prior 1/(K + 1)). The fixture, built here,
    switches regime: real prose, then bytes drawn at random, where the counts models fail
    and the flat order 0 wins."""
    noise = np.random.default_rng(1).integers(0, 256, 700, dtype=np.uint8).tobytes()
    data = corpus[5000:6300] + noise
    parts = ["ngram:order=0", "ngram:order=1", "ngram:order=3"]
    mixture = load_predictor("mix:" + "+".join(parts))
    best = min(_bits(p, data) for p in parts)
    bound = best + math.log2(len(parts) + 1) + len(data) * -math.log2(1 - mixture.share)
    mixed = coding.encode_chunk(mixture, data).ideal_bits
    assert mixed <= bound + 1e-6
    # measured, not guaranteed: the logistic mix does better than every component here
    assert mixed < 0.97 * best


def test_a_mixture_samples_and_compresses_through_the_library(prose):
    mixture = load_predictor(CHEAP)
    drawn = bytes(gencomp.sample(mixture, prose[:200], 40, seed=0))
    assert len(drawn) == 40
    assert bytes(gencomp.sample(load_predictor(CHEAP), prose[:200], 40, seed=0)) == drawn


def test_an_adaptive_compressor_keeps_the_contract_and_round_trips(prose):
    """`gzip:fast,adapt`: its sharpnesses mixed online by the same machinery; walking to a
    context and starting fresh on it agree bit for bit, and the coder decodes what it coded."""
    spec = "gzip:fast,adapt"
    walker = load_predictor(spec)
    assert load_predictor(walker.spec).spec == walker.spec and walker.spec.endswith(",adapt")
    results = [walker.logprobs(prose[:i]) for i in range(60)]
    check_logprobs(results[-1])
    assert np.array_equal(load_predictor(spec).logprobs(prose[:59]), results[-1])
    codes = coding.encode(walker, prose[:100], chunk_size=50)
    assert coding.decode(load_predictor(spec), [c.data for c in codes], [50, 50]) == prose[:100]


def test_adapt_is_refused_with_the_paper_method():
    with pytest.raises(SpecError, match="drop adapt"):
        load_predictor("gzip:paper,adapt")


def test_the_command_line_compresses_with_a_mixture_and_refuses_a_bad_one(tmp_path, prose):
    original, packed, unpacked = tmp_path / "notes.txt", tmp_path / "notes.gcz", tmp_path / "notes.out"
    original.write_bytes(prose[:200])
    runner = CliRunner()
    result = runner.invoke(app, ["compress", "--model", CHEAP, "--chunk-size", "100", "--workers", "1", str(original), str(packed)])
    assert result.exit_code == 0, result.stderr
    result = runner.invoke(app, ["decompress", "--workers", "1", str(packed), str(unpacked)])
    assert result.exit_code == 0, result.stderr
    assert unpacked.read_bytes() == prose[:200]
    result = runner.invoke(app, ["compress", "--model", "mix:gzip+zstd,weights=1", str(original), str(tmp_path / "x.gcz")])
    assert result.exit_code != 0 and "Traceback" not in result.stderr
    assert result.stderr.strip() == "error: weights='1': need 2 positive numbers joined by ':', one per component, e.g. weights=1:1"

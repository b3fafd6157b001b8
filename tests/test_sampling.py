"""The sampler: knobs in transformers' order, exact statistics, reproducible seeds."""

from __future__ import annotations

import numpy as np
import pytest

import gencomp
from gencomp.predictor import normalize
from gencomp.sampling import draw, warp

# A fixed distribution with distinct probabilities (built here): byte i ∝ 0.97^i.
LOGPROBS = normalize(np.log(0.97) * np.arange(256))


def test_plain_warp_is_the_distribution():
    assert np.allclose(warp(LOGPROBS), np.exp(LOGPROBS))


def test_temperature_zero_is_greedy_and_ties_go_to_the_lowest_byte():
    flat = normalize(np.zeros(256))
    assert warp(flat, temperature=0)[0] == 1.0
    probs = warp(LOGPROBS[::-1].copy(), temperature=0)
    assert probs[255] == 1.0 and probs.sum() == 1.0


def test_top_k_one_equals_greedy():
    assert np.array_equal(warp(LOGPROBS, top_k=1), warp(LOGPROBS, temperature=0))


def test_top_k_keeps_the_k_most_likely_renormalised():
    probs = warp(LOGPROBS, top_k=10)
    assert np.count_nonzero(probs) == 10 and np.all(probs[:10] > 0)
    expected = np.exp(LOGPROBS[:10]) / np.exp(LOGPROBS[:10]).sum()
    assert np.allclose(probs[:10], expected)


def test_top_p_keeps_the_smallest_set_reaching_p():
    p = np.exp(LOGPROBS)
    cumulative = np.cumsum(p)
    for top_p in (0.05, 0.3, 0.5, 0.9, 0.99):
        kept = np.count_nonzero(warp(LOGPROBS, top_p=top_p))
        assert cumulative[kept - 1] >= top_p - 1e-12  # enough mass
        assert kept == 1 or cumulative[kept - 2] < top_p  # and no byte fewer would do


def test_top_p_always_keeps_one_byte():
    assert np.count_nonzero(warp(LOGPROBS, top_p=1e-9)) == 1


def test_temperature_sharpens_and_flattens():
    p = np.exp(LOGPROBS)
    cold, hot = warp(LOGPROBS, temperature=0.5), warp(LOGPROBS, temperature=2.0)
    assert np.allclose(cold, p**2 / (p**2).sum())
    assert np.allclose(hot, np.sqrt(p) / np.sqrt(p).sum())


def test_temperature_applies_before_top_p():
    """At T=0.5 the distribution is sharper, so fewer bytes reach the same top-p."""
    assert np.count_nonzero(warp(LOGPROBS, temperature=0.5, top_p=0.9)) < np.count_nonzero(
        warp(LOGPROBS, top_p=0.9)
    )


def test_draws_follow_the_distribution():
    rng = np.random.default_rng(0)
    probs = warp(LOGPROBS, top_k=4)
    counts = np.bincount([draw(probs, rng) for _ in range(20000)], minlength=256)
    assert counts[4:].sum() == 0
    assert np.allclose(counts[:4] / 20000, probs[:4], atol=0.015)


@pytest.mark.parametrize(
    "knobs",
    [{"temperature": -0.1}, {"top_k": -1}, {"top_p": 0.0}, {"top_p": 1.5}, {"temperature": float("nan")}],
)
def test_bad_knobs_are_refused(knobs):
    with pytest.raises(ValueError):
        warp(LOGPROBS, **knobs)
    with pytest.raises(ValueError):
        list(gencomp.sample(gencomp.load_predictor("gzip"), b"", 1, **knobs))


def test_negative_length_is_refused():
    with pytest.raises(ValueError, match="length"):
        list(gencomp.sample(gencomp.load_predictor("gzip"), b"", -1))


def test_sample_streams_and_a_seed_reproduces(prose):
    """An adaptive predictor (its weights warm up on the prompt anew for each sample)."""
    gzip = gencomp.load_predictor("gzip:fast")
    stream = gencomp.sample(gzip, prose, 40, seed=7)
    first = next(stream)
    assert 0 <= first < 256
    run = bytes([first, *stream])
    assert len(run) == 40
    assert bytes(gencomp.sample(gzip, prose, 40, seed=7)) == run
    assert bytes(gencomp.sample(gencomp.load_predictor("gzip:fast"), prose, 40, seed=8)) != run


def test_greedy_continues_a_repetition():
    gzip = gencomp.load_predictor("gzip")
    assert bytes(gencomp.sample(gzip, b"abcdefgh" * 8, 16, temperature=0)) == b"abcdefgh" * 2


def test_samples_use_only_bytes_the_warp_allows(prose):
    """With top-k=1 every drawn byte is the argmax of the predictor at that point (an
    adaptive one, whose weights learn the prompt again when the check goes back to it)."""
    gzip = gencomp.load_predictor("gzip:fast")
    out = bytes(gencomp.sample(gzip, prose[:500], 10, top_k=1, seed=3))
    context = prose[:500]
    for byte in out:
        assert byte == int(np.argmax(gzip.logprobs(context)))
        context += bytes([byte])

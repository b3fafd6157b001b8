"""Compressor predictors: the fast paths give exactly the naive method's lengths."""

from __future__ import annotations


import numpy as np
import pytest

import gencomp
from gencomp.compressors import METHOD_VERSION, THREADS_FROM, GzipPredictor, naive_lengths
from gencomp.predictor import from_code_lengths

COMPRESSORS = ["gzip", "zstd", "lzma", "bz2"]


@pytest.mark.parametrize("spec", COMPRESSORS)
@pytest.mark.parametrize("size", [0, 1, 300, 2048])
def test_lengths_equal_the_naive_method(spec, size, prose):
    predictor = gencomp.load_predictor(spec)
    context = prose[:size]
    assert np.array_equal(predictor.candidate_lengths(context), naive_lengths(predictor.compress, context))


@pytest.mark.parametrize("size", [1023, 1024, 1500, THREADS_FROM, 8192, 32506, 32507, 40000])
def test_gzip_state_copy_is_exact_at_every_window_size(size, corpus):
    """Sizes around each switch: recompress -> copy, threads, and the smaller zlib windows
    (32506 = 32 KB - 262 is the last context the smaller-window reasoning covers)."""
    context = corpus[1000 : 1000 + size]
    gzip = GzipPredictor(context_window=1 << 20)
    assert np.array_equal(gzip.candidate_lengths(context), naive_lengths(gzip.compress, context))


def test_gzip_state_follows_a_growing_and_changing_context(corpus):
    """The reused zlib state must match a fresh computation whatever the call order."""
    gzip = GzipPredictor()
    text = corpus[5000:9000]
    for size in (1500, 1501, 1502, 1700, 2040, 1600):  # grow by one, jump, then shrink
        expected = naive_lengths(gzip.compress, text[:size])
        assert np.array_equal(gzip.candidate_lengths(text[:size]), expected), size
    other = corpus[20000:21600]
    assert np.array_equal(gzip.candidate_lengths(other), naive_lengths(gzip.compress, other))


def test_context_window_crops_to_the_last_bytes(prose):
    gzip = gencomp.load_predictor("gzip:paper,context_window=512")
    expected = from_code_lengths(8.0 * naive_lengths(gzip.compress, prose[-512:]))
    assert np.array_equal(gzip.logprobs(prose), expected)


def test_repetition_is_predicted(prose):
    """A compressor sees that a repeated phrase continues: after '…the Moon and the Mo'
    the byte 'o' should be among the most likely."""
    context = b"The Moon orbits the Earth. The Moon and the Earth. The Mo"
    for spec in ("gzip", "zstd"):
        logprobs = gencomp.load_predictor(spec).logprobs(prose[:200] + context)
        assert logprobs[ord("o")] == logprobs.max(), spec


def test_results_are_deterministic_across_instances(prose):
    first = gencomp.load_predictor("gzip").logprobs(prose)
    assert np.array_equal(first, gencomp.load_predictor("gzip").logprobs(prose))
    assert np.array_equal(first, gencomp.load_predictor("gzip").logprobs(prose))


def test_fingerprints_name_the_codec_library():
    fingerprints = {spec: gencomp.load_predictor(spec).fingerprint for spec in COMPRESSORS}
    assert fingerprints["gzip"].startswith("gzip zlib 1.") and fingerprints["gzip"].endswith(f" method {METHOD_VERSION}")
    assert fingerprints["zstd"].startswith("zstd libzstd 1.")
    assert all("unknown" not in value for value in fingerprints.values()), fingerprints

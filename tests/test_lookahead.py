"""The refined compressor predictors: finer lengths, offsets, look-ahead (gencomp.compressors.lookahead)."""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st

import gencomp
from gencomp import coding
from gencomp.compressors.literals import CANDIDATES, PRIME_BYTES, prime
from gencomp.compressors.deflate_bits import BitDeflate
from gencomp.compressors.lookahead import continuations, marginalise, suggested_spans
from gencomp.errors import SpecError
from gencomp.predictor import check_logprobs, from_code_lengths, normalize

# the refined scoring; without adapt, whose weights cost a fresh context 64 scorings first
# (the adaptive defaults: test_mixture.py, the round trips and test_refined_predictors_round_trip…)
REFINED = ["gzip:adapt=false", "zstd:adapt=false", "lzma:adapt=false", "bz2:adapt=false", "gzip:horizon=4,views=2", "zstd:horizon=1,views=1,adapt=false"]


def cross_entropy(predictor, chunk: bytes, stride: int = 1) -> float:
    bits = [-predictor.logprobs(chunk[:t])[chunk[t]] / math.log(2) for t in range(0, len(chunk), stride)]
    return float(np.mean(bits))


@pytest.mark.parametrize("spec", REFINED)
@pytest.mark.parametrize("size", [700, 200])  # 200: primed views mixed in
def test_refined_distributions_keep_the_contract(spec, size, prose):
    context = prose[:size]
    first, second = gencomp.load_predictor(spec), gencomp.load_predictor(spec)
    logprobs = first.logprobs(context)
    check_logprobs(logprobs)
    assert np.array_equal(logprobs, second.logprobs(context))  # deterministic, fresh caches
    assert np.array_equal(first.logprobs(context), logprobs)  # and with warm caches


def test_only_the_cropped_context_counts(prose):
    """The scoring, not the adaptive weights (whose state follows the walk: test_mixture.py)."""
    narrow = gencomp.load_predictor("gzip:context_window=600,adapt=false")
    for end in (900, 901, 902):  # the window slides: states are rebuilt, not reused wrongly
        fresh = gencomp.load_predictor("gzip:context_window=600,adapt=false")
        assert np.array_equal(narrow.logprobs(prose[:end]), fresh.logprobs(prose[end - 600 : end]))


@pytest.mark.parametrize("spec", ["gzip:adapt=false", "zstd:views=2,adapt=false"])
def test_a_walk_agrees_with_a_cold_call(spec, prose):
    """The scores reused along a walk are the ones a cold call computes (without adapt,
    whose weights follow the walk by design: test_mixture.py)."""
    walker = gencomp.load_predictor(spec)
    for end in range(748, 761):  # context + look-ahead grow over the smallest window (762 B)
        walked = walker.logprobs(prose[:end])
    assert np.array_equal(walked, gencomp.load_predictor(spec).logprobs(prose[:760]))


def test_paper_spec_is_the_plain_method(prose):
    paper = gencomp.load_predictor("gzip:paper,context_window=512")
    lengths = [len(zlib.compress(prose[-512:] + bytes([b]), 9)) for b in range(256)]  # the codec itself
    expected = from_code_lengths(8.0 * np.array(lengths))
    assert np.array_equal(paper.logprobs(prose), expected)
    assert gencomp.load_predictor(paper.spec).spec == paper.spec


def test_refined_predictors_keep_the_exact_paper_lengths(prose):
    codecs = {"gzip": lambda data: zlib.compress(data, 9), "zstd": zstandard.ZstdCompressor(level=3).compress}
    for name, codec in codecs.items():
        refined = gencomp.load_predictor(name)
        lengths = [len(codec(prose[:1500] + bytes([b]))) for b in range(256)]
        assert np.array_equal(refined.candidate_lengths(prose[:1500]), lengths)


def test_paper_refuses_refinements():
    with pytest.raises(SpecError, match="paper"):
        gencomp.load_predictor("gzip:paper,horizon=8")


def test_deflate_bits_are_exact_and_incremental(prose):
    context = prose[:1200]
    grown = BitDeflate(9, context[:1000], margin=300)
    grown.feed(context[1000:])
    fresh = BitDeflate(9, context)
    candidates = CANDIDATES[::17]
    lengths = fresh.bits_after(candidates)
    assert grown.bits_after(candidates) == lengths
    assert [fresh.bits_after([b])[0] for b in candidates] == lengths  # one at a time, the same
    for b, bits in zip(candidates, lengths):
        # zlib.compress: the same DEFLATE stream padded to a byte, 2 header + 4 Adler-32 bytes
        assert len(zlib.compress(context + b, 9)) == -(-bits // 8) + 6


@pytest.mark.parametrize("size", [200, 1015, 1016, 2040, 2048])  # memLevel 2, 4 | 5, 6, 6
def test_deflate_bits_match_zlib_with_the_smaller_buffers(size, corpus):
    """At level 9 the stream's hash table and symbol buffer are sized to the context (the
    block must close where zlib.compress closes it): the lengths stay zlib.compress's."""
    context = corpus[7000 : 7000 + size]
    state = BitDeflate(9, context, margin=8)
    candidates = [bytes([b]) for b in range(0, 256, 5)] + [context[-8:], context[:8]]
    for u, bits in zip(candidates, state.bits_after(candidates)):
        assert len(zlib.compress(context + u, 9)) == -(-bits // 8) + 6


def test_suggested_spans_follow_the_longest_then_latest_match():
    assert suggested_spans(b"abcXabcYabc", 2, 4) == [b"Yabc", b"Xabc"]
    assert suggested_spans(b"xyzabab", 1, 5) == [b"ababa"]  # LZ77-style overlapping copy
    assert continuations(b"abcXabcYabc", 1, 3) == [b"Ya", b"Yab"]
    assert continuations(b"abcXabcYabc", 4, 1) == []


def reference_spans(context: bytes, count: int, horizon: int) -> list[bytes]:
    """suggested_spans by its definition, byte by byte: every earlier end of the last
    byte, ranked by its suffix match (up to 64 bytes), then by recency; the LZ77 copy."""
    n = len(context)

    def match(end: int) -> int:
        k = 0
        while k < min(64, end + 1) and context[end - k] == context[n - 1 - k]:
            k += 1
        return k

    spans: list[bytes] = []
    for end in sorted((e for e in range(n - 1) if context[e] == context[-1]), key=lambda e: (-match(e), -e)):
        out = bytearray(context)
        for i in range(horizon):
            out.append(out[end + 1 + i])
        if bytes(out[n:]) not in spans and len(spans) < count:
            spans.append(bytes(out[n:]))
    return spans if count >= 1 and horizon >= 1 and n >= 2 else []


@given(st.binary(max_size=160), st.sampled_from([2, 3, 256]), st.integers(1, 20), st.integers(1, 70))
def test_suggested_spans_agree_with_their_definition(raw, alphabet, count, horizon):
    context = bytes(b % alphabet for b in raw)  # small alphabets: long, repeated matches
    assert suggested_spans(context, count, horizon) == reference_spans(context, count, horizon)


def test_suggested_spans_agree_with_their_definition_on_real_audio(speech_bytes):
    """The bundled speech's first 2 KB (8-bit; silent runs, matches up to the 64-byte cap),
    every 37th context."""
    chunk = speech_bytes[:2048]
    assert len(chunk) == 2048
    for t in range(2, len(chunk), 37):
        assert suggested_spans(chunk[:t], 16, 8) == reference_spans(chunk[:t], 16, 8)


def test_ends_scores_the_shortest_and_the_whole_continuation_only():
    assert continuations(b"abcXabcYabc", 2, 4, ends=True) == [b"Ya", b"Yabc", b"Xa", b"Xabc"]
    assert continuations(b"abcXabcYabc", 1, 2, ends=True) == continuations(b"abcXabcYabc", 1, 2) == [b"Ya"]


def test_marginalise_without_continuations_is_the_one_step_distribution():
    bits = np.arange(256, dtype=np.float64) / 7.0
    assert np.allclose(marginalise(bits, []), from_code_lengths(bits))
    assert np.allclose(marginalise(bits, [], 0.5), normalize(0.5 * from_code_lengths(bits)))
    boosted = marginalise(np.append(bits, 0.0), [b"\xffab"])
    assert boosted.argmax() == 255 and np.isfinite(boosted).all()


def test_bonus_credits_the_continuations_bits():
    """A continuation whose length is 3 bits above byte 0's ties with it once credited 3 bits."""
    bits = np.full(256, 20.0)
    bits[0], bits[1] = 5.0, 40.0
    logprobs = marginalise(np.append(bits, 8.0), [b"\x01a"], bonus=3.0)
    assert math.isclose(logprobs[0], logprobs[1], abs_tol=1e-6)
    assert logprobs[1] > marginalise(np.append(bits, 8.0), [b"\x01a"])[1]


@pytest.mark.parametrize("name", ["gzip", "zstd"])
def test_refined_predictors_model_real_text_better_than_the_paper(name, corpus):
    chunk = corpus[300_000:300_600]
    paper = cross_entropy(gencomp.load_predictor(f"{name}:paper"), chunk, stride=6)
    refined = cross_entropy(gencomp.load_predictor(name), chunk, stride=6)
    assert refined < paper - 0.5, (refined, paper)


def test_a_prime_has_the_contexts_byte_counts_not_its_strings(prose):
    context = prose[:256]
    padding = prime(context, seed=1)
    assert len(padding) == PRIME_BYTES and padding == prime(context, seed=1)
    assert sorted(padding[:256]) == sorted(context) and sorted(padding[256:]) == sorted(context)
    assert padding != prime(context, seed=2)
    assert context[100:116] not in padding  # 16-byte runs of the context: ~ never by chance
    assert prime(b"", seed=0) == b""


@pytest.mark.parametrize("name", ["gzip", "zstd", "lzma", "bz2"])
def test_priming_models_the_start_of_real_text_better(name, corpus):
    """Below 512 bytes the codecs code literals flat; the primed views give them the
    context's byte frequencies. Measured on the first 384 bytes of a real chunk."""
    chunk = corpus[200_000:200_384]
    plain = cross_entropy(gencomp.load_predictor(f"{name}:shuffled_views=0,views=1,adapt=false"), chunk, stride=8)
    primed = cross_entropy(gencomp.load_predictor(f"{name}:shuffled_views=2,views=1,adapt=false"), chunk, stride=8)
    assert primed < plain - 0.1, (primed, plain)


@pytest.mark.parametrize("spec, size", [("gzip", 160), ("zstd", 160), ("lzma", 48), ("bz2", 48)])
def test_refined_predictors_round_trip_through_the_coder(spec, size, prose):
    predictor = gencomp.load_predictor(spec)
    chunk = prose[:size]
    coded = coding.encode_chunk(predictor, chunk)
    assert coding.decode_chunk(gencomp.load_predictor(spec), coded.data, len(chunk)) == chunk

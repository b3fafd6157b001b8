"""Arithmetic coding with real predictors on real data: exact round trips, the same
compute path in both directions, and code lengths within the stated bound of the ideal."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import gencomp
from gencomp import arithmetic, coding
from gencomp.datasets import bundled_image, bundled_speech, text_corpus
from gencomp.modalities import audio_to_bytes, image_patches, read_audio, to_7bit, to_grayscale
from gencomp.llm.predictor import LLMPredictor
from gencomp.spec import load_predictor

# Small context windows keep the compressor predictors fast (a few ms a byte).
FAST_SPECS = ["gzip:context_window=32", "zstd:context_window=32", "bz2:context_window=32", "lzma:level=0,context_window=32"]
ENDING_BITS = 2 + 7  # at most 2 bits end the interval, at most 7 zero bits fill the byte
QUANTISATION_BITS = 1e-6  # per byte: the floor and the interval rounding (see coding.py)


def samples(size: int) -> dict[str, bytes]:
    """``size`` bytes of each modality, from the bundled real data."""
    text = text_corpus().data
    patch = image_patches(to_grayscale(bundled_image("camera")))[100].tobytes()
    speech = audio_to_bytes(read_audio(bundled_speech()).samples)
    return {
        "text": text[5000 : 5000 + size],
        "image": patch[:size],
        "audio": speech[4000 : 4000 + size],
        "random": np.random.default_rng(0).integers(0, 256, size, dtype=np.uint8).tobytes(),
    }


def bound_bits(ideal_bits: float, length: int) -> float:
    return ideal_bits + ENDING_BITS + QUANTISATION_BITS * length + 1e-6 * ideal_bits


@pytest.fixture(scope="module")
def text_distributions() -> list[tuple[np.ndarray, int]]:
    """The gzip predictor's distributions over 512 bytes of Wikipedia text, and the bytes."""
    gzip = load_predictor("gzip")
    text = text_corpus().data[:512]
    return [(gzip.logprobs(text[:i]), text[i]) for i in range(len(text))]


# ---------------------------------------------------------------- quantisation


def test_quantize_keeps_every_byte_codable_and_sums_to_total(text_distributions):
    extreme = np.full(256, -1e6)
    extreme[7] = 0.0
    for logprobs in [lp for lp, _ in text_distributions[:50]] + [extreme, np.full(256, -math.log(256))]:
        cumulative = arithmetic.quantize(logprobs)
        freqs = np.diff(cumulative)
        assert cumulative[0] == 0 and cumulative[-1] == arithmetic.TOTAL
        assert freqs.min() >= 1
        # never below p·(1 - 2**-24): what the bound on the code length rests on
        assert np.all(freqs / arithmetic.TOTAL >= np.exp(logprobs) * (1 - 2.0**-24))


def test_quantize_is_deterministic_and_rejects_nan(text_distributions):
    logprobs = text_distributions[100][0]
    assert np.array_equal(arithmetic.quantize(logprobs), arithmetic.quantize(logprobs.copy()))
    broken = logprobs.copy()
    broken[3] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        arithmetic.quantize(broken)


# ------------------------------------------------------------------ the coder


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    length=st.integers(0, 300),
    sharpness=st.sampled_from([0.1, 1.0, 10.0, 60.0]),
)
def test_coder_round_trips_any_distributions(seed, length, sharpness):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(length, 256)) * sharpness
    tables = [arithmetic.quantize(gencomp.predictor.normalize(row)) for row in logits]
    symbols = [int(s) for s in rng.integers(0, 256, length)]
    encoder = arithmetic.Encoder()
    for table, symbol in zip(tables, symbols):
        encoder.encode(table, symbol)
    code = encoder.finish()
    decoder = arithmetic.Decoder(code)
    assert [decoder.decode(table) for table in tables] == symbols
    quantised = sum(-math.log2((t[s + 1] - t[s]) / arithmetic.TOTAL) for t, s in zip(tables, symbols))
    assert len(code) * 8 <= quantised + ENDING_BITS + 1e-6


def test_stream_of_64_kib_is_within_0_1_percent_of_ideal(text_distributions):
    """65,536 real gzip-predictor distributions coded as one stream: the ending is paid
    once, so the code stays within 0.1% (and the stated bound) of Σ -log2 p."""
    tables = [(arithmetic.quantize(lp), byte) for lp, byte in text_distributions]
    repeats = 128
    ideal = repeats * sum(-lp[byte] for lp, byte in text_distributions) / math.log(2)
    encoder = arithmetic.Encoder()
    for _ in range(repeats):
        for table, byte in tables:
            encoder.encode(table, byte)
    code = encoder.finish()
    length = repeats * len(tables)
    assert length >= 64 * 1024
    assert len(code) * 8 <= bound_bits(ideal, length)
    assert len(code) * 8 <= ideal * 1.001
    decoder = arithmetic.Decoder(code)
    assert all(decoder.decode(table) == byte for _ in range(repeats) for table, byte in tables)


def test_corrupt_code_is_refused_or_decodes_differently(text_distributions):
    tables = [(arithmetic.quantize(lp), byte) for lp, byte in text_distributions[:200]]
    encoder = arithmetic.Encoder()
    for table, byte in tables:
        encoder.encode(table, byte)
    code = bytearray(encoder.finish())
    code[len(code) // 2] ^= 0x10
    decoder = arithmetic.Decoder(bytes(code))
    try:
        decoded = [decoder.decode(table) for table, _ in tables]
    except arithmetic.CorruptStream:
        return
    assert decoded != [byte for _, byte in tables]


# ------------------------------------------------------- predictors, real data


class Recording:
    """A real predictor that also records the contexts it is asked about."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.spec, self.context_window, self.fingerprint = inner.spec, inner.context_window, inner.fingerprint
        self.contexts: list[bytes] = []

    def logprobs(self, context: bytes) -> np.ndarray:
        self.contexts.append(context)
        return self.inner.logprobs(context)


def test_encoder_and_decoder_walk_the_same_compute_path():
    data = samples(40)["text"]
    predictor = Recording(load_predictor("zstd:context_window=16"))
    coded = coding.encode(predictor, data, chunk_size=25)
    asked_encoding = predictor.contexts[:]
    predictor.contexts.clear()
    assert coding.decode(predictor, [c.data for c in coded], [25, 15]) == data
    assert predictor.contexts == asked_encoding
    expected = [chunk[max(0, i - 16) : i] for chunk in (data[:25], data[25:]) for i in range(len(chunk))]
    assert asked_encoding == expected
    assert all(type(context) is bytes for context in asked_encoding)


@pytest.mark.parametrize("spec", FAST_SPECS)
def test_round_trip_real_data_every_compressor_predictor(spec):
    predictor = load_predictor(spec)
    for name, data in samples(48).items():
        coded = coding.encode(predictor, data, chunk_size=20)
        assert len(coded) == 3
        decoded = coding.decode(predictor, [c.data for c in coded], coding.chunk_lengths(len(data), 20))
        assert decoded == data, name
        for chunk, length in zip(coded, coding.chunk_lengths(len(data), 20)):
            assert len(chunk.data) * 8 <= bound_bits(chunk.ideal_bits, length), name


@pytest.mark.parametrize("spec", FAST_SPECS)
@pytest.mark.parametrize("data", [b"", b"\x00", b"\xff", b"A"], ids=["empty", "zero", "ff", "A"])
def test_empty_and_one_byte(spec, data):
    predictor = load_predictor(spec)
    coded = coding.encode(predictor, data)
    assert len(coded) == len(data)
    assert coding.decode(predictor, [c.data for c in coded], [len(data)] if data else []) == data


def test_stream_mode_slides_the_window_over_long_input():
    """chunk_size 0: one stream, each byte predicted from the last context_window bytes."""
    predictor = load_predictor("zstd:context_window=8")
    data = samples(60)["audio"]
    (coded,) = coding.encode(predictor, data, chunk_size=0)
    assert coding.decode(predictor, [coded.data], [len(data)]) == data
    assert len(coded.data) * 8 <= bound_bits(coded.ideal_bits, len(data))


@pytest.mark.parametrize("spec", [*FAST_SPECS, "gzip:paper,context_window=8", "lzma:paper,level=0,context_window=8"])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=24), chunk_size=st.sampled_from([0, 1, 7, 2048]))
def test_round_trip_any_bytes(spec, data, chunk_size):
    """Every compressor family, refined and paper, on short arbitrary bytes; the decoder
    is a fresh predictor, as in another process."""
    coded = coding.encode(load_predictor(spec), data, chunk_size)
    lengths = coding.chunk_lengths(len(data), chunk_size)
    assert coding.decode(load_predictor(spec), [c.data for c in coded], lengths) == data


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(min_size=1, max_size=5))
def test_llm_round_trips_any_bytes(llm_predictor, data):
    """The language model on arbitrary bytes (few: it codes a few bytes a second here)."""
    (coded,) = coding.encode(LLMPredictor(loaded=llm_predictor.loaded), data)
    assert coding.decode(LLMPredictor(loaded=llm_predictor.loaded), [coded.data], [len(data)]) == data


def test_chunk_lengths():
    assert coding.chunk_lengths(0) == []
    assert coding.chunk_lengths(5000) == [2048, 2048, 904]
    assert coding.chunk_lengths(4096) == [2048, 2048]
    assert coding.chunk_lengths(5000, 0) == [5000]
    with pytest.raises(ValueError):
        coding.chunk_lengths(10, -1)


def test_workers_give_the_same_code_as_one_process():
    predictor = load_predictor("zstd:context_window=16")
    data = samples(90)["text"]
    alone = coding.encode(predictor, data, chunk_size=30)
    parallel = coding.encode(predictor, data, chunk_size=30, workers=2)
    assert [c.data for c in parallel] == [c.data for c in alone]
    assert coding.decode(predictor, [c.data for c in alone], [30, 30, 30], workers=2) == data


# ------------------------------------------------------------------------ LLM


def test_llm_round_trip_text_image_audio(llm_predictor):
    """Few bytes: the LLM predictor codes 6 text bytes/s here, and 7-bit image bytes at
    under 1 byte/s. Text in two chunks decoded in reverse order (as parallel workers
    would: a chunk's code must not depend on what the predictor did before), audio
    bytes, image bytes in the paper's 7-bit mapping, and bytes with no single-byte token."""
    text = samples(40)["text"]
    coded = coding.encode(llm_predictor, text, chunk_size=24)
    second = coding.decode_chunk(llm_predictor, coded[1].data, 16)
    assert coding.decode_chunk(llm_predictor, coded[0].data, 24) + second == text
    data = samples(8)
    for raw in [data["audio"], to_7bit(data["image"][:6]), bytes([0x04, 0xC0, 0xF5, 0xFF, 0x41])]:
        (chunk,) = coding.encode(llm_predictor, raw)
        assert coding.decode(llm_predictor, [chunk.data], [len(raw)]) == raw
        assert len(chunk.data) * 8 <= bound_bits(chunk.ideal_bits, len(raw))

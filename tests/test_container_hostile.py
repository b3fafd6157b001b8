"""Hostile .gcz files: headers with valid CRCs that lie about lengths, and random or
mutated bytes. Each must end at once in a ContainerError (one line in the CLI), never in
another exception or a decoder running without bound. The valid files are built here from
a slice of the bundled text corpus."""

from __future__ import annotations

import time
import zlib
from dataclasses import replace

import numpy as np

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from gencomp import arithmetic, container
from gencomp.container import ContainerError, Corrupted
from gencomp.datasets import text_corpus
from gencomp.spec import load_predictor

SPEC = "gzip:paper,context_window=32"  # the case; also fast enough for many examples
BOUNDED = settings(
    max_examples=60, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@pytest.fixture(scope="module")
def original() -> bytes:
    return text_corpus().data[30_000:30_060]


@pytest.fixture(scope="module")
def packed(original) -> bytes:
    return container.compress(load_predictor(SPEC), original, chunk_size=0).data


def refused_at_once(blob: bytes, match: str) -> None:
    start = time.perf_counter()
    with pytest.raises(Corrupted, match=match):
        container.decompress(blob)
    assert time.perf_counter() - start < 1.0


def test_a_huge_declared_length_is_refused_before_decoding(packed):
    """The issue's file: a CRC-valid header declaring 10**12 bytes of one stream."""
    header, payload = container.unpack(packed)
    refused_at_once(container.pack(replace(header, length=10**12), payload), "more bytes than its code can hold")


def test_chunks_that_do_not_add_up_are_refused_by_arithmetic(packed):
    """10**12 bytes in 1-byte chunks would be a list of 10**12 lengths if it were built."""
    header, payload = container.unpack(packed)
    refused_at_once(container.pack(replace(header, length=10**12, chunk_size=1), payload), "malformed")
    two_chunks = replace(header, chunk_size=header.length // 2, code_sizes=[len(payload), 0, 0])
    refused_at_once(container.pack(two_chunks, payload), "malformed")


@settings(max_examples=40, deadline=None)
@given(
    skew=st.floats(0.0, 40.0),
    symbols=st.lists(st.sampled_from([0, 0, 0, 1, 7, 255]), max_size=300),
    seed=st.integers(0, 2**32 - 1),
)
def test_a_code_holds_no_more_than_its_bits(skew, symbols, seed):
    """What max_length rests on: Σ -log2 q over the coded symbols < 8·len(code) + 2 with q
    the quantised probabilities. Runs of byte 0 (the bottom of every interval) are the
    case where dropping a code's trailing zero bytes, as version 1 did, broke it."""
    scores = np.random.default_rng(seed).normal(size=256) * skew / 10
    scores[0] += skew  # from uniform to all but certain
    cumulative = arithmetic.quantize(scores - np.logaddexp.reduce(scores))
    encoder = arithmetic.Encoder()
    for symbol in symbols:
        encoder.encode(cumulative, symbol)
    code = encoder.finish()
    q = np.diff(cumulative)[symbols] / arithmetic.TOTAL
    assert -np.log2(q).sum() < 8 * len(code) + 2
    assert len(symbols) <= arithmetic.max_length(len(code))
    decoder = arithmetic.Decoder(code)
    assert [decoder.decode(cumulative) for _ in symbols] == symbols


def test_a_length_the_code_cannot_reach_stops_the_decoder(original, packed):
    """Within the bound but past what was coded: the decoder runs out of code bits and
    stops, long before it would decode the declared length."""
    header, payload = container.unpack(packed)
    longer = container.pack(replace(header, length=header.length + 20_000), payload)
    start = time.perf_counter()
    with pytest.raises(ContainerError):
        container.decompress(longer)
    assert time.perf_counter() - start < 5.0


header_changes = st.fixed_dictionaries(
    {},
    optional={
        "length": st.integers(0, 2**64),
        "chunk_size": st.integers(0, 2**40),
        "code_sizes": st.lists(st.integers(0, 40), max_size=6),
        "crc32": st.integers(0, 2**32 - 1),
        "spec": st.sampled_from([SPEC, "zstd", "gzip:paper,context_window=8", "nosuch", ""]),
    },
)


@BOUNDED
@given(changes=header_changes, payload=st.binary(max_size=40))
def test_lying_headers_with_valid_crcs(packed, original, changes, payload):
    header, _ = container.unpack(packed)
    blob = container.pack(replace(header, payload_crc32=zlib.crc32(payload), **changes), payload)
    try:
        assert container.decompress(blob) == original
    except ContainerError:
        pass


@BOUNDED
@given(data=st.data())
def test_mutated_files(packed, original, data):
    blob = bytearray(packed)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(blob)))
        kind = data.draw(st.sampled_from(["flip", "insert", "delete"]))
        if kind == "flip" and at < len(blob):
            blob[at] ^= data.draw(st.integers(1, 255))
        elif kind == "insert":
            blob[at:at] = data.draw(st.binary(min_size=1, max_size=8))
        else:
            del blob[at : at + data.draw(st.integers(1, 8))]
    try:
        assert container.decompress(bytes(blob)) == original
    except ContainerError:
        pass


@BOUNDED
@given(blob=st.binary(max_size=200))
def test_random_bytes(blob):
    with pytest.raises(ContainerError):
        container.decompress(container.MAGIC[: len(blob) % 9] + blob)

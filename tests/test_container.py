"""The .gcz container: round trips, and every kind of damage refused with a clear error
before any byte is decoded."""

from __future__ import annotations

import json
import zlib
from dataclasses import replace

import pytest
from hypothesis import given, strategies as st

from gencomp import coding, container
from gencomp.container import (
    ContainerError,
    Corrupted,
    ModelMismatch,
    NotAContainer,
    Truncated,
    UnknownVersion,
)
from gencomp.datasets import text_corpus
from gencomp.spec import load_predictor

SPEC = "zstd:context_window=16"


@pytest.fixture(scope="module")
def text() -> bytes:
    return text_corpus().data[10_000:10_120]


@pytest.fixture(scope="module")
def packed(text) -> container.Compressed:
    return container.compress(load_predictor(SPEC), text, chunk_size=50)


def test_round_trip_and_header(text, packed):
    assert container.decompress(packed.data) == text
    header, payload = container.unpack(packed.data)
    predictor = load_predictor(SPEC)
    assert header.spec == predictor.spec and header.fingerprint == predictor.fingerprint
    assert header.length == len(text) and header.crc32 == zlib.crc32(text)
    assert header.chunk_size == 50 and len(header.code_sizes) == 3
    assert sum(header.code_sizes) == len(payload) == packed.payload_size
    assert packed.chunks == 3 and packed.ideal_bits > 0


@pytest.mark.parametrize("data", [b"", b"x"], ids=["empty", "one-byte"])
@pytest.mark.parametrize("chunk_size", [0, 2048])
def test_empty_and_one_byte(data, chunk_size):
    packed = container.compress(load_predictor(SPEC), data, chunk_size)
    assert container.decompress(packed.data) == data


def test_stream_mode_round_trip(text):
    packed = container.compress(load_predictor("gzip:context_window=24"), text, chunk_size=0)
    assert container.unpack(packed.data)[0].code_sizes == [packed.payload_size]
    assert container.decompress(packed.data) == text


def test_every_flipped_bit_is_detected(packed):
    """No single-bit error gets past the checks (and none reaches the decoder)."""
    blob = packed.data
    for bit in range(len(blob) * 8):
        damaged = bytearray(blob)
        damaged[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(ContainerError):
            container.unpack(bytes(damaged))


def test_every_truncation_is_detected(packed):
    for size in range(1, len(packed.data)):
        with pytest.raises(Truncated, match="truncated"):
            container.unpack(packed.data[:size])


def test_trailing_bytes_are_detected(packed):
    with pytest.raises(Corrupted, match="unexpected bytes"):
        container.unpack(packed.data + b"\0")


@pytest.mark.parametrize("blob", [b"", b"hello world\n", zlib.compress(b"not ours"), b"\x89PNG\r\n\x1a\n" + bytes(30)])
def test_not_a_gencomp_file(blob):
    with pytest.raises(NotAContainer, match="not a gencomp file"):
        container.unpack(blob)


def test_unknown_version(packed):
    blob = bytearray(packed.data)
    blob[len(container.MAGIC)] = container.VERSION + 1
    with pytest.raises(UnknownVersion, match=f"unknown container version {container.VERSION + 1}"):
        container.unpack(bytes(blob))


@pytest.mark.parametrize(
    "change, message",
    [
        ({"fingerprint": "zstd libzstd 0.0.1"}, "libzstd 0.0.1"),
        ({"spec": "nosuchmodel:level=3"}, "cannot be loaded here"),
        # same codec and version, other options: the fingerprint agrees, the decoded
        # bytes do not, and the original's CRC-32 says so (a header names every option:
        # one without adapt would be read as 0.1's, with adapt off)
        ({"spec": "zstd:level=19,context_window=16,adapt"}, "CRC-32"),
    ],
    ids=["other-fingerprint", "unavailable-model", "decodes-differently"],
)
def test_a_model_that_cannot_decode_the_file_is_refused(packed, change, message):
    header, payload = container.unpack(packed.data)
    other = container.pack(replace(header, **change), payload)
    with pytest.raises(ModelMismatch, match=message):
        container.decompress(other)


def test_inconsistent_header_is_malformed(packed):
    header, payload = container.unpack(packed.data)
    other = container.pack(replace(header, length=header.length + 500), payload)
    with pytest.raises(Corrupted, match="malformed"):
        container.unpack(other)


def test_header_is_one_line_of_json(packed):
    start = len(container.MAGIC) + 5
    fields = json.loads(packed.data[start:].split(b"\n", 1)[0])
    assert set(fields) == {"spec", "fingerprint", "length", "crc32", "chunk_size", "chunks", "payload_crc32"}


@given(st.lists(st.integers(0, 2**40), max_size=20))
def test_leb128_round_trip(values):
    assert container._unleb128(container._leb128(values)) == values


def test_workers_decode_the_same(text, packed):
    assert container.decompress(packed.data, workers=2) == text


def test_llm_container_rebuilds_the_model_from_its_header(llm_predictor, text):
    """The header's spec and fingerprint name the LLM well enough to decode elsewhere."""
    packed = container.compress(llm_predictor, text[:20])
    header, _ = container.unpack(packed.data)
    assert header.fingerprint == llm_predictor.fingerprint
    assert container.decompress(packed.data) == text[:20]


def test_version_1_files_still_decode(text):
    """Version 1 dropped each code's trailing zero bytes (the decoder reads zeros past the
    end). Built here as that version wrote them: runs of byte 0 make codes that end in
    zero bytes, which is where the version-2 decoder's bit budget would be wrong."""
    data = bytes(100) + text[:50] + bytes(50)
    v2 = container.compress(load_predictor(SPEC), data, chunk_size=50)
    header, payload = container.unpack(v2.data)
    codes = [code.rstrip(b"\0") for code in coding.split_into(payload, header.code_sizes)]
    assert sum(map(len, codes)) < len(payload), "the fixture must have codes ending in zeros"
    stripped = b"".join(codes)
    v1_header = replace(header, code_sizes=[len(c) for c in codes], payload_crc32=zlib.crc32(stripped))
    blob = bytearray(container.pack(v1_header, stripped))
    start, size = len(container.MAGIC), int.from_bytes(blob[len(container.MAGIC) + 1 : len(container.MAGIC) + 5], "little")
    blob[start] = 1
    end = start + 5 + size
    blob[end : end + 4] = zlib.crc32(blob[start:end]).to_bytes(4, "little")
    assert container.unpack(bytes(blob))[0].version == 1
    assert container.decompress(bytes(blob)) == data

"""Every predictor family round-trips through the container: its default spec (the one
`gencomp compress --model NAME` takes) and its `:paper` spec, on real text, image and audio
bytes, random bytes, empty input and one byte; and once per family on an input long enough
to get past priming, use every view offset and slide the window (all in one chunk). The
data are slices of the bundled corpora (see test_coding.samples)."""

from __future__ import annotations

import pytest

from gencomp import coding, container
from gencomp.llm.predictor import LLMPredictor
from gencomp.modalities import to_7bit
from gencomp.spec import load_predictor
from test_coding import samples

FAMILIES = ["gzip", "zstd", "lzma", "bz2"]


def kinds(size: int) -> dict[str, bytes]:
    return {**samples(size), "empty": b"", "one byte": b"\xc3"}


def round_trip(spec: str, data: bytes, chunk_size: int = 2048, workers: int = 1) -> bytes:
    packed = container.compress(load_predictor(spec), data, chunk_size, workers).data
    assert container.decompress(packed) == data
    return packed


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("variant", ["", ":paper"], ids=["default", "paper"])
def test_every_family_and_kind(family: str, variant: str) -> None:
    """48 bytes of each kind; 8 for lzma:paper, whose one-shot lzma.compress at preset 6
    sets up a large dictionary for each of the 256 candidates (about 0.15 s a byte)."""
    spec = family + variant
    for kind, data in kinds(8 if spec == "lzma:paper" else 48).items():
        packed = round_trip(spec, data)
        assert container.unpack(packed)[0].spec == load_predictor(spec).spec, kind


@pytest.mark.parametrize("family", FAMILIES)
def test_past_priming_every_offset_and_a_sliding_window(family: str) -> None:
    """800 bytes of text in one chunk with the default refinements and a 720-byte window:
    priming stops at 512 bytes of context, the view offsets 64 bytes apart are all
    distinct, and the last 80 bytes are predicted from a window that has slid. (A full
    2048-byte chunk proves nothing more and costs several times as much: lzma and bz2's
    refined predictors code 17-40 bytes/s at that context.)"""
    round_trip(f"{family}:context_window=720", samples(800)["text"])


@pytest.mark.parametrize("family", FAMILIES)
def test_two_workers_write_the_same_file_as_one(family: str) -> None:
    data = samples(48)["audio"]
    spec = f"{family}:paper"
    assert round_trip(spec, data, chunk_size=16, workers=2) == round_trip(spec, data, chunk_size=16)


def test_llm_stream_slides_its_window_and_codes_any_byte(llm_predictor) -> None:
    """Stream mode with a 48-byte window over 150 bytes: the window re-anchors (every half
    window) several times. Then random bytes, 8-bit image bytes (many have no one-byte
    token), the paper's 7-bit image bytes and a single byte, each in one chunk. Encoder
    and decoder are separate predictors on the loaded weights (fresh caches, no reload)."""

    def fresh(window: int) -> LLMPredictor:
        return LLMPredictor(loaded=llm_predictor.loaded, context_window=window)

    data = samples(12)
    cases = [(48, samples(150)["text"], 0)]
    cases += [(2048, raw, 2048) for raw in [data["random"], data["image"], to_7bit(data["image"]), b"\x00"]]
    for window, raw, chunk_size in cases:
        coded = coding.encode(fresh(window), raw, chunk_size)
        lengths = coding.chunk_lengths(len(raw), chunk_size)
        assert coding.decode(fresh(window), [c.data for c in coded], lengths) == raw

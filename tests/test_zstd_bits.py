"""zstd content bits: the frame parser finds the real bitstream ends, on real frames."""

from __future__ import annotations

import numpy as np
import pytest
import zstandard

from gencomp.compressors.zstd_bits import bitstream_ends, content_bits


def frames(corpus: bytes) -> dict[str, bytes]:
    """Frames of every block and literals kind zstd writes, from real text and from
    inputs built here (random bytes for raw blocks, one repeated byte for RLE)."""
    random = np.random.default_rng(0).integers(0, 256, 3000, dtype=np.uint8).tobytes()
    plain, checked = zstandard.ZstdCompressor(level=3), zstandard.ZstdCompressor(level=3, write_checksum=True)
    return {
        "empty": plain.compress(b""),
        "tiny raw literals": plain.compress(corpus[:40]),
        "one Huffman stream": plain.compress(corpus[:300]),
        "four Huffman streams": plain.compress(corpus[:2048]),
        "multi-block, checksum": checked.compress(corpus[:300_000]),
        "level 19": zstandard.ZstdCompressor(level=19).compress(corpus[5000:7048]),
        "raw block": plain.compress(random),
        "rle": plain.compress(b"a" * 5000),
        "no content size": zstandard.ZstdCompressor(level=3, write_content_size=False).compress(corpus[:2048]),
    }


def test_content_bits_are_the_frame_less_1_to_8_bits_per_stream(corpus: bytes) -> None:
    for kind, frame in frames(corpus).items():
        ends = bitstream_ends(frame)
        assert len(set(ends)) == len(ends) and all(0 < end < len(frame) for end in ends), kind
        padding = 8 * len(frame) - content_bits(frame)
        assert len(ends) <= padding <= 8 * len(ends), kind
    text = frames(corpus)["four Huffman streams"]
    assert len(bitstream_ends(text)) == 6  # Huffman weights, 4 literal streams, sequences


@pytest.mark.parametrize("kind", ["one Huffman stream", "four Huffman streams", "multi-block, checksum", "level 19"])
def test_each_end_found_holds_an_end_mark_the_decoder_reads(corpus: bytes, kind: str) -> None:
    """Moving a stream's end mark up (setting the top padding bit) must corrupt what the
    decoder reads: so every offset found is really the last byte of a bitstream."""
    frame = frames(corpus)[kind]
    original = zstandard.ZstdDecompressor().decompress(frame)
    checked = 0
    for end in bitstream_ends(frame):
        if frame[end] & 0x80:
            continue  # no padding above the mark here: nothing to move
        forged = bytearray(frame)
        forged[end] |= 0x80
        try:
            assert zstandard.ZstdDecompressor().decompress(bytes(forged)) != original
        except zstandard.ZstdError:
            pass
        checked += 1
    assert checked > 0


def test_one_more_byte_costs_bits_not_whole_bytes(corpus: bytes) -> None:
    """Byte lengths put most candidates in one tie set; content bits tell them apart."""
    compressor = zstandard.ZstdCompressor(level=3)
    context = corpus[:1500]
    whole = {len(compressor.compress(context + bytes([b]))) for b in b"etaoinshrdlu"}
    fine = {content_bits(compressor.compress(context + bytes([b]))) for b in b"etaoinshrdlu"}
    assert len(fine) > len(whole)


def test_not_a_frame_is_refused() -> None:
    with pytest.raises(ValueError, match="not a zstd frame"):
        content_bits(b"\x1f\x8b\x08\x00")

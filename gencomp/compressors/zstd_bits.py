"""The exact number of bits a Zstandard frame holds: its length less the bitstream padding.

zstd writes its entropy-coded parts as bitstreams that are read backwards and closed by an
end mark: a 1 bit, then zeros up to the byte boundary (RFC 8878, 4.1 and 4.2.1). A frame's
byte length therefore rounds each stream up to a byte, which puts a one-byte candidate's
cost into coarse steps of 8 bits. This module walks the frame's blocks and subtracts, for
each bitstream, the end mark and the zeros above it, read off the stream's last byte:
the Huffman-coded literal streams (1 or 4), the FSE-coded Huffman weights, and the
sequences. The FSE table headers of the sequence section stay rounded to bytes (finding
their end means decoding them; they change rarely).
"""

from __future__ import annotations

_RLE_BLOCK, _COMPRESSED_BLOCK = 1, 2  # block types (0: raw, 3: reserved)
_RAW_LITERALS, _RLE_LITERALS, _COMPRESSED_LITERALS, _TREELESS_LITERALS = 0, 1, 2, 3
_MAGIC = b"\x28\xb5\x2f\xfd"


def content_bits(frame: bytes) -> int:
    """The bits of ``frame`` (one zstd frame) that carry data: 8 × its length less the
    end marks and padding of its bitstreams."""
    padding = 0
    for end in bitstream_ends(frame):
        last_byte = frame[end]
        if not last_byte:
            raise ValueError("zstd bitstream without an end mark")
        padding += 9 - last_byte.bit_length()  # the end mark (the highest 1) and the zeros above it
    return 8 * len(frame) - padding


def bitstream_ends(frame: bytes) -> list[int]:
    """The offsets in ``frame`` of the last byte of each bitstream (literals, Huffman
    weights, sequences): the byte that holds the stream's end mark."""
    if frame[:4] != _MAGIC:
        raise ValueError("not a zstd frame")
    descriptor = frame[4]
    content_size_flag, single_segment, dictionary_flag = descriptor >> 6, (descriptor >> 5) & 1, descriptor & 3
    pos = 5 + (not single_segment) + (0, 1, 2, 4)[dictionary_flag] + (single_segment, 2, 4, 8)[content_size_flag]
    ends: list[int] = []
    while True:
        header = frame[pos] | frame[pos + 1] << 8 | frame[pos + 2] << 16
        last, block_type, size = header & 1, (header >> 1) & 3, header >> 3
        pos += 3
        stored = 1 if block_type == _RLE_BLOCK else size  # an RLE block stores its one byte
        if block_type == _COMPRESSED_BLOCK:
            _block_ends(frame, pos, pos + stored, ends)
        pos += stored
        if last:
            break
    checksum = 4 if descriptor & 4 else 0
    if pos + checksum != len(frame):  # invariant: the blocks tile the frame exactly
        raise ValueError(f"zstd frame of {len(frame)} bytes ends at {pos + checksum}")
    return ends


def _block_ends(frame: bytes, start: int, stop: int, ends: list[int]) -> None:
    """Append the offsets of the bitstream ends of the compressed block ``frame[start:stop]``
    (offsets, not a slice: this runs once per candidate byte, so copies count)."""
    first = frame[start]
    literals_type, size_format = first & 3, (first >> 2) & 3
    if literals_type in (_RAW_LITERALS, _RLE_LITERALS):  # stored bytes: no bitstream
        header_size = (1, 2, 1, 3)[size_format]
        shift = 3 if size_format in (0, 2) else 4
        regenerated = int.from_bytes(frame[start : start + header_size], "little") >> shift
        literals_end = start + header_size + (regenerated if literals_type == _RAW_LITERALS else 1)
    else:
        header_size, size_bits = ((3, 10), (3, 10), (4, 14), (5, 18))[size_format]
        compressed = (int.from_bytes(frame[start : start + header_size], "little") >> (4 + size_bits)) & ((1 << size_bits) - 1)
        streams_start, literals_end = start + header_size, start + header_size + compressed
        if literals_type == _COMPRESSED_LITERALS:  # a Huffman tree description comes first
            tree_header = frame[streams_start]
            fse_weights = tree_header < 128
            tree_size = 1 + (tree_header if fse_weights else (tree_header - 127 + 1) // 2)
            if fse_weights:
                ends.append(streams_start + tree_size - 1)
            streams_start += tree_size
        if size_format == 0:  # one stream
            ends.append(literals_end - 1)
        else:  # four streams, after a jump table of the first three's sizes
            end = streams_start + 6
            for i in range(streams_start, streams_start + 6, 2):
                end += frame[i] | frame[i + 1] << 8
                ends.append(end - 1)
            ends.append(literals_end - 1)
    if literals_end > stop:
        raise ValueError("zstd literals section runs past its block")
    if literals_end < stop and frame[literals_end] != 0:  # sequences: their stream ends the block
        ends.append(stop - 1)


"""Which single bytes a compressor predictor scores, and the shuffled pads that prime a
codec's literal code on a short context (see :mod:`gencomp.compressors.predictor`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gencomp.predictor import ALPHABET

CANDIDATES = [bytes([b]) for b in range(ALPHABET)]
STAND_INS = 4  # scored stand-ins per group of bytes (bench/compressor_xent.py)
PRIME_BYTES = 512  # bytes of a priming pad


def prime(context: bytes, seed: int, size: int = PRIME_BYTES) -> bytes:
    """``size`` bytes of ``context``'s own bytes in shuffled order (a fresh permutation
    each time the context is used up): its byte frequencies without its strings.
    Deterministic: numpy's legacy RandomState streams are frozen across versions."""
    data = np.frombuffer(context, dtype=np.uint8)
    if not len(data):
        return b""
    rng = np.random.RandomState(seed)
    order = np.concatenate([rng.permutation(len(data)) for _ in range(-(-size // len(data)))])
    return data[order[:size]].tobytes()


@dataclass(frozen=True)
class Literals:
    """Which single bytes to score, and how their lengths stand for all 256.

    The bytes absent from the context form one group; with ``pool``, so do the bytes seen
    equally often; every other byte is a group of its own. Each group takes the mean length
    of up to STAND_INS stand-ins from it. Their lengths differ by noise (a new symbol in the
    Huffman tree; equal counts, equal code lengths), so on text the absent group saves 3-4×
    of the compressions; pooling saves more and averages the noise out (measured by
    bench/compressor_xent.py on the default settings: 0.2-3.7% fewer bits on held-out text,
    image and audio, 1.0-1.4× the bytes/s)."""

    scored: list[bytes]  # the bytes to score, as candidates
    group_of_scored: np.ndarray  # intp[len(scored)]
    group_of_byte: np.ndarray  # intp[256]

    @classmethod
    def of(cls, context: bytes, pool: bool) -> Literals:
        counts = np.bincount(np.frombuffer(context, dtype=np.uint8), minlength=ALPHABET)
        key = counts if pool else np.where(counts == 0, 0, 1 + np.arange(ALPHABET))
        _, group_of_byte = np.unique(key, return_inverse=True)
        sizes = np.bincount(group_of_byte)
        members = np.argsort(group_of_byte, kind="stable")  # by group, ascending within one
        rank = np.arange(ALPHABET) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        stand_ins = members[rank % -(-sizes // STAND_INS)[group_of_byte[members]] == 0]
        return cls([CANDIDATES[b] for b in stand_ins], group_of_byte[stand_ins], group_of_byte)

    def spread(self, bits: np.ndarray) -> np.ndarray:
        """The 256 single-byte lengths from the scored ones: each group's mean."""
        groups = int(self.group_of_byte.max()) + 1
        sums = np.bincount(self.group_of_scored, weights=bits, minlength=groups)
        return (sums / np.bincount(self.group_of_scored, minlength=groups))[self.group_of_byte]

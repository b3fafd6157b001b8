"""Look-ahead for code-length predictors: score multi-byte continuations, marginalise.

A compressor with code length ℓ defines a weight 2^-ℓ(s) for every string s. The next-byte
distribution that uses the most of it sums over continuations rather than stopping after
one byte: p(b | x) ∝ Σ_u 2^-ℓ(x·u) over continuations u that start with b. The sum cannot
run over every u, so it runs over the ones that carry most of the weight:
- every single byte b (the paper's one-step term), and
- every prefix (2..horizon bytes) of the continuations the context suggests, the way LZ77
  would find them: the bytes that followed earlier occurrences of the context's suffix.
When the context is in the middle of a repeat, the byte that continues it gains the
weight of the whole cheap continuation, which a one-step length cannot see (LZ77 codes a
match only from 3 bytes on, and a byte that starts one looks like any other literal).

``bonus`` (in bits) is taken off each suggested continuation's length: a repeat is likelier
than the codec's length for it says (LZ77 pays for a match's length up front, so each
prefix of a repeat is priced as if the copy might stop there). Measured, not derived.

``exponent`` (β) scales the summed log-weights before normalising, p ∝ (Σ 2^-ℓ)^β. The
code lengths of a compressor are overconfident as probabilities (a new byte value costs
tens of bits in a fresh Huffman tree); β < 1 flattens them, chosen by measurement in
bench/compressor_xent.py.
"""

from __future__ import annotations

import math

import numpy as np

from gencomp.predictor import ALPHABET, normalize

LN2 = math.log(2.0)
MAX_SUFFIX = 64  # bytes: longer suffix matches rank equal; bounds the search
FIRST_COMPARED = 8  # bytes back compared for every match before the rest (_suffix_matches)


def suggested_spans(context: bytes, count: int, horizon: int) -> list[bytes]:
    """Up to ``count`` distinct continuations of ``horizon`` bytes that the context
    suggests: what followed earlier occurrences of its suffix, longest match first (ties:
    most recent). A continuation may run into the bytes it copies, as LZ77 matches may."""
    data = np.frombuffer(context, dtype=np.uint8)
    n = len(data)
    if count < 1 or horizon < 1 or n < 2:
        return []
    ends = np.flatnonzero(data[:-1] == data[-1])  # earlier positions of the last byte
    lengths = _suffix_matches(data, ends)
    order = np.lexsort((-ends, -lengths))  # longest suffix match, then most recent
    spans: dict[bytes, None] = {}
    for start in (ends[order] + 1).tolist():
        spans.setdefault(_copy(context, start, horizon))
        if len(spans) == count:
            break
    return list(spans)


def _suffix_matches(data: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """How many bytes (at most MAX_SUFFIX) the text ending at each of ``ends`` shares with
    the text's end: the first FIRST_COMPARED bytes back for every end, the rest for the
    ends that matched all of those. (Comparing a byte back at a time cost 14% of a
    gzip:fast step on audio, whose long runs keep many ends matching.)"""
    n = len(data)
    lengths = np.zeros(len(ends), dtype=np.int64)
    alive = np.arange(len(ends))
    for back in (np.arange(min(FIRST_COMPARED, n)), np.arange(FIRST_COMPARED, min(MAX_SUFFIX, n))):
        positions = ends[alive, None] - back  # the bytes this far back from each end
        same = (positions >= 0) & (data[np.maximum(positions, 0)] == data[n - 1 - back])
        run = np.where(same.all(axis=1), len(back), same.argmin(axis=1))
        lengths[alive] += run
        alive = alive[run == len(back)]
        if not len(alive):
            break
    return lengths


def _copy(context: bytes, start: int, length: int) -> bytes:
    """``length`` bytes copied from ``start`` on, LZ77-style: a copy that runs into the
    bytes it writes repeats the ``len(context) - start`` bytes from ``start``."""
    span = context[start : start + length]
    return span if len(span) == length else (span * (length // len(span) + 1))[:length]


def continuations(context: bytes, count: int, horizon: int, ends: bool = False) -> list[bytes]:
    """The multi-byte continuations to score: every prefix of 2..horizon bytes of the
    suggested spans, each once (single bytes are scored separately, all 256 of them). With
    ``ends``, only the 2-byte prefix and the whole span: a repeat's prefixes cost about
    alike, so the two ends carry most of what the ones between would add (measured:
    bench/compressor_xent.py, where it let one view reach further at the same cost)."""
    if horizon < 2:
        return []
    sizes = sorted({2, horizon}) if ends else range(2, horizon + 1)
    seen: dict[bytes, None] = {}
    for span in suggested_spans(context, count, horizon):
        for size in sizes:
            seen.setdefault(span[:size])
    return list(seen)


def marginalise(bits: np.ndarray, extra: list[bytes], exponent: float = 1.0, bonus: float = 0.0) -> np.ndarray:
    """Next-byte log-probabilities from code lengths in bits: ``bits[:256]`` for the single
    bytes 0..255, ``bits[256:]`` for the continuations in ``extra``, in order.

    p(b) ∝ (2^-bits[b] + Σ_{u in extra, u[0] = b} 2^(bonus - bits[u]))^exponent. Every
    byte keeps its own one-step term, so every entry is finite."""
    bits = np.asarray(bits, dtype=np.float64)
    if bits.shape != (ALPHABET + len(extra),):
        raise ValueError(f"expected {ALPHABET + len(extra)} lengths, got {bits.shape}")
    scores = -(bits - bits.min()) * LN2
    totals = scores[:ALPHABET].copy()
    if extra:
        first = np.fromiter((u[0] for u in extra), dtype=np.intp, count=len(extra))
        np.logaddexp.at(totals, first, scores[ALPHABET:] + bonus * LN2)
    return normalize(exponent * totals)

"""The one interface everything else is built on: a next-byte distribution.

A predictor maps a byte context to 256 natural-log probabilities. The sampler draws from
them, the arithmetic coder codes with them. This module holds the contract and the helpers
every predictor uses; it imports nothing of gencomp's, so anything may import it. Spec
strings (``gzip``, ``zstd:level=19``) and the registry are in :mod:`gencomp.spec`, the
built-in families in :mod:`gencomp.families`.
"""

from __future__ import annotations

import math
from typing import Protocol, runtime_checkable

import numpy as np

ALPHABET = 256
DEFAULT_CONTEXT_WINDOW = 2048  # bytes: the paper's chunk size


@runtime_checkable
class Predictor(Protocol):
    """Next-byte model.

    Contract: ``logprobs(context)`` returns a float64 array of shape (256,), natural log,
    normalised (logsumexp == 0), every entry finite. The result depends only on the last
    ``context_window`` bytes of ``context`` and the configuration; the same sequence of
    calls gives bit-identical arrays (the arithmetic coder relies on it). Implementations
    may cache so that growing the context by one byte per call is cheap.

    ``spec`` rebuilds an equal predictor through :func:`load_predictor`; ``fingerprint``
    names everything else the numbers depend on (codec library version, hash of model
    weights), so that a decoder can refuse a predictor that would decode differently.

    Optional: ``sample_next(context, rng, temperature, top_k, top_p) -> int`` draws the
    next byte more cheaply than ``logprobs`` would, from the same distribution with the
    knobs at (1, 0, 1), else with the knobs applied to the predictor's own units (a
    language model's tokens); :func:`gencomp.sample` uses it when present.
    """

    spec: str
    context_window: int
    fingerprint: str

    def logprobs(self, context: bytes) -> np.ndarray: ...


def normalize(logits: np.ndarray) -> np.ndarray:
    """Shift natural-log scores so that they sum to one in probability (float64), along
    the last axis. The logarithm is Python's, not numpy's vectorised one (which may round
    differently): coded files depend on these floats."""
    logits = np.asarray(logits, dtype=np.float64)
    if logits.ndim == 1:  # the same floats, in a third less time (most calls: one distribution)
        top = logits.max()
        return logits - (top + math.log(np.exp(logits - top).sum()))
    top = logits.max(axis=-1, keepdims=True)
    sums = np.exp(logits - top).sum(axis=-1, keepdims=True)
    return logits - (top + np.array([math.log(total) for total in sums.flat]).reshape(sums.shape))


def from_code_lengths(bits: np.ndarray) -> np.ndarray:
    """The paper's compressor distribution: p(b) ∝ 2^-ℓ(b), ℓ in bits."""
    bits = np.asarray(bits, dtype=np.float64)
    return normalize(-(bits - bits.min()) * math.log(2.0))


def check_logprobs(logprobs: np.ndarray, atol: float = 1e-9) -> None:
    """Raise ValueError if ``logprobs`` breaks the Predictor contract."""
    if logprobs.shape != (ALPHABET,) or logprobs.dtype != np.float64:
        raise ValueError(f"expected float64[256], got {logprobs.dtype}{list(logprobs.shape)}")
    if not np.all(np.isfinite(logprobs)):
        raise ValueError("every byte must have a finite log-probability")
    total = np.logaddexp.reduce(logprobs)
    if abs(total) > atol:
        raise ValueError(f"log-probabilities are not normalised (logsumexp = {total:.3g})")


def crop(context: bytes, window: int) -> bytes:
    """The part of ``context`` a predictor with this window sees (the last bytes)."""
    return bytes(context[-window:]) if window and len(context) > window else bytes(context)

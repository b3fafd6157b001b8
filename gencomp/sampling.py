"""Drawing continuations from any predictor, with the knobs transformers users know.

Order as in ``generate()``: scale by temperature, keep the top-k, keep the top-p nucleus,
then draw. ``temperature=0`` is greedy (the most likely byte; ties go to the lowest byte).
The knobs act on bytes, except for a predictor with its own ``sample_next`` (a language
model), which applies them to its tokens as ``generate()`` does.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from gencomp.predictor import Predictor, crop


def check_sampling(temperature: float, top_k: int, top_p: float) -> None:
    """Raise ValueError naming the first knob out of range."""
    if not temperature >= 0:  # also rejects NaN
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if top_k < 0:
        raise ValueError(f"top-k must be >= 0 (0 keeps every byte), got {top_k}")
    if not 0 < top_p <= 1:
        raise ValueError(f"top-p must be in (0, 1], got {top_p}")


def warp(logprobs: np.ndarray, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0) -> np.ndarray:
    """The distribution actually drawn from: normalised probabilities, zeros where cut."""
    check_sampling(temperature, top_k, top_p)
    if temperature == 0:
        probs = np.zeros_like(logprobs)
        probs[np.argmax(logprobs)] = 1.0
        return probs
    # 1. temperature: p ∝ p^(1/T)
    scores = logprobs / temperature
    # 2./3. rank bytes, most likely first; a stable sort keeps ties in byte order
    order = np.argsort(-scores, kind="stable")
    probs = np.exp(scores - scores[order[0]])
    keep = len(order) if top_k == 0 else min(top_k, len(order))
    ranked = probs[order[:keep]] / probs[order[:keep]].sum()
    if top_p < 1.0:
        # the smallest prefix whose mass reaches top_p (always at least one byte)
        keep = int(np.searchsorted(np.cumsum(ranked), top_p, side="left")) + 1
        keep = min(keep, len(ranked))
    out = np.zeros_like(probs)
    out[order[:keep]] = probs[order[:keep]]
    return out / out.sum()


def draw(probs: np.ndarray, rng: np.random.Generator) -> int:
    """Inverse-CDF draw of one byte; one uniform number per byte keeps seeds stable."""
    cdf = np.cumsum(probs)
    index = int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))
    return min(index, len(probs) - 1)


def sample(
    predictor: Predictor,
    prompt: bytes,
    length: int,
    *,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    seed: int | None = None,
) -> Iterator[int]:
    """Yield ``length`` sampled bytes (ints 0-255) continuing ``prompt``, one at a time.

    >>> import gencomp
    >>> gzip = gencomp.load_predictor("gzip")
    >>> bytes(gencomp.sample(gzip, b"abcabcabcabc", 6, temperature=0))
    b'abcabc'
    """
    if length < 0:
        raise ValueError(f"length must be >= 0, got {length}")
    check_sampling(temperature, top_k, top_p)
    rng = np.random.default_rng(seed)
    # A predictor's own draw, where it has one: a language model then pays a model step
    # only when the drawn byte ends a token, and applies the knobs to its tokens, as
    # generate() does.
    own_draw = getattr(predictor, "sample_next", None)
    context = bytearray(prompt)
    for _ in range(length):
        window = crop(context, predictor.context_window)
        if own_draw is not None:
            byte = own_draw(window, rng, temperature, top_k, top_p)
        else:
            byte = draw(warp(predictor.logprobs(window), temperature, top_k, top_p), rng)
        context.append(byte)
        yield byte

"""A small adaptive context model: the next byte from the byte counts of the context.

``ngram:order=2`` predicts from what followed the context's last 2 bytes, last byte and
nothing earlier in the context itself, blended from the longest order down (Witten-Bell):
p_k(b) = (n_k(b) + d_k · p_{k-1}(b)) / (N_k + d_k), with n_k the counts after the last k
bytes, N_k their sum and d_k the number of distinct bytes among them (how often a new byte
appeared there); p_{-1} is uniform, so no byte is impossible. It is what PPM and the
context models of PAQ learn, in its simplest form, and is meant as a cheap component of
mixtures (:mod:`gencomp.mixture`): it adapts to images and audio, where the codecs'
lengths do not.

The counts are pure in the context; they are kept between calls and grown by one byte
when the context grows by one (the coder's and the sampler's walk), else counted anew.
"""

from __future__ import annotations

import math

import numpy as np

from gencomp.errors import SpecError
from gencomp.predictor import ALPHABET, DEFAULT_CONTEXT_WINDOW, crop

MAX_ORDER = 8  # longer contexts almost never repeat within a 2 KB window


class NgramPredictor:
    """Byte counts after the context's last ``order`` .. 0 bytes, blended by Witten-Bell."""

    def __init__(self, order: int = 2, context_window: int = DEFAULT_CONTEXT_WINDOW) -> None:
        if not 0 <= order <= MAX_ORDER:
            raise SpecError(f"ngram order must be 0..{MAX_ORDER}, got {order}")
        if context_window < 1:
            raise SpecError(f"context_window must be at least 1 byte, got {context_window}")
        self.order = order
        self.context_window = context_window
        self._context = b""
        self._counts: dict[bytes, np.ndarray] = {}  # the last k bytes -> counts of the next

    @property
    def spec(self) -> str:
        return f"ngram:order={self.order},context_window={self.context_window}"

    @property
    def fingerprint(self) -> str:
        return f"ngram witten-bell numpy {np.__version__}"

    def __repr__(self) -> str:
        return f"<NgramPredictor {self.spec}>"

    def logprobs(self, context: bytes) -> np.ndarray:
        context = crop(bytes(context), self.context_window)
        self._count(context)
        probs = np.full(ALPHABET, 1.0 / ALPHABET)
        for k in range(min(self.order, len(context)) + 1):
            counts = self._counts.get(context[len(context) - k :])
            if counts is None:
                break  # a longer suffix cannot have been seen either
            total, distinct = float(counts.sum()), float(np.count_nonzero(counts))
            probs = (counts + distinct * probs) / (total + distinct)
        return np.log(probs) - math.log(probs.sum())

    def _count(self, context: bytes) -> None:
        """Counts of every position of ``context``: grown by its last byte when it extends
        the last call's context by one, else counted anew."""
        if context == self._context:
            return
        if len(context) == len(self._context) + 1 and context.startswith(self._context):
            start = len(context) - 1
        else:
            self._counts, start = {}, 0
        for i in range(start, len(context)):
            for k in range(min(self.order, i) + 1):
                counts = self._counts.setdefault(context[i - k : i], np.zeros(ALPHABET))
                counts[context[i]] += 1
        self._context = context

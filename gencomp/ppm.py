"""PPM: gencomp's own context model of bytes (prediction by partial matching).

The next byte is predicted from the longest context (the last ``order`` bytes) the window
has seen before, falling back ("escaping") to shorter ones, down to order 0 (byte
frequencies) and finally a uniform order -1, so every byte stays codable. Each order's
counts give the bytes seen after its context a probability and keep an escape share for
the rest (PPMC: escape = distinct / (total + distinct); PPMD: distinct / (2 · total), each
seen byte (2c - 1) / (2 · total)); bytes a longer context predicted are excluded from the
shorter ones' counts (exclusion), which gives their mass to the bytes still unexplained.

The model is a pure function of the window: the counts are those of every (context, byte)
pair inside the last ``context_window`` bytes, integers, so sliding the window removes
the oldest byte's pairs exactly. Growing the context by a few bytes (the coder's and the
sampler's walk) updates the counts; any other call rebuilds them from the window, which
gives the same integers and hence bit-identical float64 probabilities in any call order.
Unlike pyppmd's PPMd, no state has to be recompressed per candidate: one call scores all
256 bytes.
"""

from __future__ import annotations

import numpy as np

from gencomp.predictor import ALPHABET, DEFAULT_CONTEXT_WINDOW, SpecError, crop, normalize

METHOD_VERSION = 1
MAX_ORDER = 16
ESCAPES = ("c", "d")
# beyond this many new bytes a rebuild from the window (about order × window dict
# updates) is no dearer than checking for and applying the update
MAX_STEP = 64

Counts = dict[bytes, dict[int, int]]


class PpmPredictor:
    """PPM of orders 0..``order`` with exclusion over the window's counts (PPMC or PPMD)."""

    def __init__(self, order: int = 5, escape: str = "d", context_window: int = DEFAULT_CONTEXT_WINDOW) -> None:
        if not 0 <= order <= MAX_ORDER:
            raise SpecError(f"ppm order (bytes of context) must be 0..{MAX_ORDER}, got {order}")
        if escape not in ESCAPES:
            raise SpecError(f"ppm escape must be c (PPMC) or d (PPMD), got {escape!r}")
        if context_window < 1:
            raise SpecError(f"ppm context_window must be at least 1 byte, got {context_window}")
        self.order, self.escape, self.context_window = order, escape, context_window
        self._window = b""
        self._counts: Counts = {}
        self._continuations: Counts = {}  # Kneser-Ney: distinct bytes before (context, byte)

    @property
    def spec(self) -> str:
        return f"ppm:order={self.order},escape={self.escape},context_window={self.context_window}"

    @property
    def fingerprint(self) -> str:
        return f"ppm method {METHOD_VERSION} numpy {np.__version__.split('.')[0]}"

    def __repr__(self) -> str:
        return f"<PpmPredictor {self.spec}>"

    def logprobs(self, context: bytes) -> np.ndarray:
        self._move_to(crop(context, self.context_window))
        return normalize(np.log(self._probabilities()))

    # ---------------------------------------------------------------- the window's counts

    def _move_to(self, window: bytes) -> None:
        """Make the counts those of ``window``: by updating them if it is the current
        window grown by a few bytes (and slid), else by counting it afresh."""
        old = self._window
        if window == old:
            return
        step = _step(old, window)
        if step is None:
            self._counts, self._continuations, old = {}, {}, b""
            step = len(window)
        stream = old + window[len(window) - step :]
        for end in range(len(old), len(stream)):
            self._pairs(stream, end, +1)
        for start in range(len(stream) - len(window)):  # the window slid: its first bytes leave
            self._pairs_from(stream, start)
        self._window = window

    def _pairs(self, data: bytes, end: int, change: int) -> None:
        """Count (or uncount) the byte at ``end`` after each of its contexts of 0..order bytes."""
        for start in range(max(0, end - self.order), end + 1):
            self._change(data[start:end], data[end], change)

    def _pairs_from(self, data: bytes, start: int) -> None:
        """Uncount the pairs whose context starts at ``start`` (the byte leaving the window)."""
        for end in range(start, min(start + self.order, len(data) - 1) + 1):
            self._change(data[start:end], data[end], -1)

    def _change(self, key: bytes, byte: int, change: int) -> None:
        """Add ``change`` to the count of ``byte`` after ``key``; when the pair appears or
        disappears, to the continuation count of ``byte`` after ``key`` less its first byte."""
        _add(self._counts, key, byte, change)
        if key and self._counts.get(key, {}).get(byte, 0) == (change > 0):
            _add(self._continuations, key[1:], byte, change)

    # ---------------------------------------------------------------------- the model

    def _probabilities(self) -> np.ndarray:
        """The next byte's probabilities: the longest context first, each escaping to the
        next shorter with the bytes it predicted excluded, then uniform over the rest."""
        window, counts = self._window, self._counts
        probabilities = np.zeros(ALPHABET)
        excluded = np.zeros(ALPHABET, dtype=bool)
        remaining = 1.0  # probability left for the bytes no order has predicted yet
        for order in range(min(self.order, len(window) - 1), -1, -1):
            seen = counts.get(window[len(window) - order :])  # the context that a byte followed
            if not seen:
                continue
            count = np.zeros(ALPHABET)
            count[list(seen)] = list(seen.values())
            count[excluded] = 0.0
            present = count > 0.0
            distinct, total = int(present.sum()), float(count.sum())
            if total == 0.0:  # every byte seen here was predicted by a longer context
                continue
            if self.escape == "c":
                probabilities += remaining * count / (total + distinct)
                remaining *= distinct / (total + distinct)
            else:
                probabilities[present] += remaining * (2.0 * count[present] - 1.0) / (2.0 * total)
                remaining *= distinct / (2.0 * total)
            excluded |= present
        unseen = ALPHABET - int(excluded.sum())
        if unseen:
            probabilities[~excluded] += remaining / unseen
        return probabilities


def _step(old: bytes, window: bytes) -> int | None:
    """How many bytes ``window`` adds to ``old`` when it is ``old`` grown by them (and
    cropped to the same window); None when it is not, or when the step is long."""
    if not old:
        return None
    if len(window) > len(old) and window.startswith(old):  # grew, not yet cropped
        return len(window) - len(old)
    if len(window) != len(old):
        return None
    for step in range(1, min(MAX_STEP, len(old)) + 1):  # slid by `step` bytes
        if old[step:] == window[: len(window) - step]:
            return step
    return None


def _add(counts: Counts, key: bytes, byte: int, change: int) -> None:
    """counts[key][byte] += change, dropping entries that reach zero."""
    seen = counts.setdefault(key, {})
    seen[byte] = seen.get(byte, 0) + change
    if not seen[byte]:
        del seen[byte]
        if not seen:
            del counts[key]

"""PPM: gencomp's own context model of bytes (prediction by partial matching).

The next byte is predicted from the contexts of 0..``order`` bytes before it that the
window has seen, each order blending in the shorter one as interpolated Kneser-Ney
smoothing does: p(b) = (max(c(b) - discount, 0) + (strength + discount · distinct) ·
p_shorter(b)) / (total + strength), down to a uniform order -1 so that every byte stays
codable; the orders below the top count the distinct bytes seen before a pair, not its
occurrences. The counts are integers and a pure function of the window, so a context grown
by a few bytes updates them and any other call counts afresh, with bit-identical results.
One call scores all 256 bytes (pyppmd's PPMd must compress each). Why this blend and not
PPMC's escapes: the README's "How it works", with the measurements.
"""

from __future__ import annotations

import numpy as np

from gencomp.errors import SpecError
from gencomp.predictor import ALPHABET, DEFAULT_CONTEXT_WINDOW, crop, normalize

METHOD_VERSION = 1
MAX_ORDER = 16
# beyond this many new bytes a fresh count of the window (about order × window dict
# updates) is no dearer than finding the step and applying it
MAX_STEP = 64

Counts = dict[bytes, dict[int, int]]


class PpmPredictor:
    """Interpolated Kneser-Ney PPM of orders 0..``order`` over the window's byte counts."""

    def __init__(
        self,
        order: int = 5,
        discount: float = 0.8,
        strength: float = 0.1,
        context_window: int = DEFAULT_CONTEXT_WINDOW,
    ) -> None:
        if not 0 <= order <= MAX_ORDER:
            raise SpecError(f"ppm order (bytes of context) must be 0..{MAX_ORDER}, got {order}")
        if not 0.0 <= discount <= 1.0:
            raise SpecError(f"ppm discount must be 0..1 (a count's share given to shorter contexts), got {discount}")
        if not strength >= 0.0 or strength + discount == 0.0:
            raise SpecError(f"ppm strength must be >= 0, and above 0 when discount is 0, got {strength}")
        if context_window < 1:
            raise SpecError(f"ppm context_window must be at least 1 byte, got {context_window}")
        self.order, self.discount, self.strength = order, discount, strength
        self.context_window = context_window
        self._window = b""
        self._counts: Counts = {}
        self._continuations: Counts = {}  # Kneser-Ney: distinct bytes before (context, byte)

    @property
    def spec(self) -> str:
        return (
            f"ppm:order={self.order},discount={self.discount},strength={self.strength},"
            f"context_window={self.context_window}"
        )

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
            self._pairs_to(stream, end)
        for start in range(len(stream) - len(window)):  # the window slid: its first bytes leave
            self._pairs_from(stream, start)
        self._window = window

    def _pairs_to(self, data: bytes, end: int) -> None:
        """Count the byte at ``end`` after each of its contexts of 0..order bytes (a new byte)."""
        for start in range(max(0, end - self.order), end + 1):
            self._change(data[start:end], data[end], +1)

    def _pairs_from(self, data: bytes, start: int) -> None:
        """Uncount the pairs whose context starts at ``start`` (the byte leaving the window)."""
        for end in range(start, min(start + self.order, len(data) - 1) + 1):
            self._change(data[start:end], data[end], -1)

    def _change(self, key: bytes, byte: int, change: int) -> None:
        """Add ``change`` to the count of ``byte`` after ``key``; when the pair appears or
        disappears, to the continuation count of ``byte`` after ``key`` less its first byte."""
        _add(self._counts, key, byte, change)
        now = self._counts.get(key, {}).get(byte, 0)
        if key and now == (1 if change > 0 else 0):
            _add(self._continuations, key[1:], byte, change)

    # ---------------------------------------------------------------------- the model

    def _probabilities(self) -> np.ndarray:
        """Orders -1 (uniform) up to ``order``, each blending its own counts, less the
        discount, with the shorter order's distribution, which gets the mass freed."""
        window = self._window
        probabilities = np.full(ALPHABET, 1.0 / ALPHABET)  # order -1: every byte codable
        for order in range(min(self.order, len(window) - 1) + 1):
            key = window[len(window) - order :]
            raw = self._counts.get(key)
            if raw is None:  # the window never had this context, nor any longer one
                break
            # below the top order, Kneser-Ney's counts of distinct bytes before the pair; a
            # context seen only at the window's start has none: its own counts stand in
            seen = raw if order == self.order else self._continuations.get(key, raw)
            count = np.zeros(ALPHABET)
            count[list(seen)] = list(seen.values())
            freed = self.strength + self.discount * len(seen)
            probabilities = (np.maximum(count - self.discount, 0.0) + freed * probabilities) / (count.sum() + self.strength)
        return probabilities


def _step(old: bytes, window: bytes) -> int | None:
    """How many bytes ``window`` adds to ``old`` when it is ``old`` grown by them (and
    cropped to the same window); None when it is not, or slid by more than MAX_STEP."""
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

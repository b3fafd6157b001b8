"""PNG as a predictor: pixels in rows, PNG's filters, and DEFLATE's exact code lengths.

A PNG holds grayscale pixels row by row; each row is filtered (a filter-type byte, then
each pixel minus a prediction from its neighbours, modulo 256: None, Sub = left, Up =
above, Average, Paeth) and the filtered stream is DEFLATE-compressed. As a next-pixel
model: the context's pixels are filtered the same way, the refined gzip predictor
(:class:`~gencomp.compressors.codecs.GzipPredictor`, exact DEFLATE bit lengths, look-ahead,
dithering) gives the distribution of the next filtered byte, and since a pixel x filters
to (x − prediction) mod 256, a bijection, that is the next pixel's distribution too.

PNG's encoder picks each row's filter after seeing the row; a predictor may only look
back, so ``adaptive`` picks for each row the filter that would have done best on the row
above it (libpng's heuristic: the least sum of |filtered byte| as signed), and the first
row uses Sub. Rows count from the start of the context; the window holds whole rows, so
cropping keeps them aligned.

One refinement is PNG's own: DEFLATE gives every residual the context has not held the
same length (a new symbol in the Huffman tree), while filtered photographs have small
residuals far more often than large ones. So ``smooth`` of the distribution is a
two-sided geometric over the residual's signed size (:func:`near_zero`), the rest
DEFLATE's; measured on held-out patches (bench/codec_predictors.py), DEFLATE's lengths
alone code at 1.04-1.14× PNG's rate, with ``smooth=0.9`` at 0.97×.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gencomp.compressors.codecs import GzipPredictor
from gencomp.compressors.refinements import Refinements
from gencomp.errors import SpecError
from gencomp.predictor import ALPHABET, DEFAULT_CONTEXT_WINDOW, crop, normalize
from gencomp.spec import family, format_spec

FILTERS = ("none", "sub", "up", "average", "paeth")  # PNG's filter types 0-4, in order
FIRST_ROW_FILTER = FILTERS.index("sub")
METHOD_VERSION = 1


def paeth(left: np.ndarray, up: np.ndarray, corner: np.ndarray) -> np.ndarray:
    """PNG's Paeth predictor: whichever neighbour is nearest to left + up − corner."""
    estimate = left + up - corner
    near_left, near_up, near_corner = np.abs(estimate - left), np.abs(estimate - up), np.abs(estimate - corner)
    return np.where(
        (near_left <= near_up) & (near_left <= near_corner), left, np.where(near_up <= near_corner, up, corner)
    )


def predictions(rows: np.ndarray) -> np.ndarray:
    """Each filter's prediction of every pixel, int64[5, height, width], from the pixels
    to its left, above and above-left (0 beyond the image, as in PNG)."""
    x = rows.astype(np.int64)
    left = np.pad(x, ((0, 0), (1, 0)))[:, :-1]
    up = np.pad(x, ((1, 0), (0, 0)))[:-1, :]
    corner = np.pad(x, ((1, 0), (1, 0)))[:-1, :-1]
    return np.stack([np.zeros_like(x), left, up, (left + up) // 2, paeth(left, up, corner)])


def row_filters(rows: np.ndarray, guesses: np.ndarray, fixed: int | None) -> np.ndarray:
    """The filter type of each row: ``fixed``, or each row the one best on the row above."""
    height = len(rows)
    if fixed is not None:
        return np.full(height, fixed, dtype=np.int64)
    signed = ((rows[None].astype(np.int64) - guesses) & 0xFF).astype(np.uint8).view(np.int8)
    cost = np.abs(signed.astype(np.int64)).sum(axis=2)  # [filter, row]
    return np.concatenate([[FIRST_ROW_FILTER], np.argmin(cost, axis=0)[:-1]]).astype(np.int64)


def near_zero(stream: bytes, width: int, recent: int = 256) -> np.ndarray:
    """Log-probabilities of the next filtered byte as a two-sided geometric distribution
    over its signed value, whose mean |value| is that of the filtered bytes left of and
    above it, averaged with that of the last ``recent`` (LOCO-I's context, simplified)."""
    signed = np.abs(np.frombuffer(stream[-recent:], dtype=np.int8).astype(np.float64))
    if not len(signed):
        return np.full(ALPHABET, -math.log(ALPHABET))
    near = [signed[-i] for i in (1, 2, width - 1, width, width + 1) if i <= len(signed)]  # left; above: right, over, left
    mean = 0.5 * (float(signed.mean()) + sum(near) / len(near))
    ratio = mean / (1.0 + mean)  # a geometric's P(|v| > m) / P(|v| >= m) for this mean
    magnitude = np.abs(np.arange(ALPHABET, dtype=np.int64).astype(np.uint8).view(np.int8).astype(np.float64))
    return normalize(magnitude * math.log(max(ratio, 1e-6)))


class PngPredictor:
    """PNG's filters in front of the refined gzip predictor; pixels in rows of ``width``."""

    # DEFLATE's refinements for filtered pixels, measured against Pillow's PNG on held-out
    # patches (bench/codec_predictors.py): one step, one view, pooled literals (2.8x the
    # bytes/s of 4 views); with ``smooth`` 0.9, 0.967x PNG's rate
    TUNED = Refinements(exponent=0.9, shuffled_views=1, pool=True)

    def __init__(
        self,
        width: int = 64,
        filter: str = "adaptive",
        smooth: float = 0.9,
        context_window: int = DEFAULT_CONTEXT_WINDOW,
        level: int = 9,
        paper: bool = False,
        **refinements: Any,
    ) -> None:
        if filter not in FILTERS + ("adaptive",):
            raise SpecError(f"png filter must be adaptive or one of {', '.join(FILTERS)}; got {filter!r}")
        if width < 1 or width > context_window:
            raise SpecError(
                f"png width must be 1..context_window ({context_window}) pixels, got {width}; "
                "a row must fit in the context (the paper's patches are 64 wide)"
            )
        if not 0 <= smooth < 1:
            raise SpecError(f"png smooth must be in [0, 1), got {smooth}")
        self.width, self.filter, self.smooth = width, filter, smooth
        self.context_window = context_window - context_window % width  # whole rows: alignment survives cropping
        rows = self.context_window // width + 1
        # the filtered stream: the pixels and a filter-type byte per row
        deflate = refinements if paper else self.TUNED.with_changes(refinements).settings()
        self.deflate = GzipPredictor(level, self.context_window + rows, paper=paper, **deflate)

    @property
    def spec(self) -> str:
        own = {"width": self.width, "filter": self.filter, "smooth": self.smooth, "context_window": self.context_window}
        deflate = self.deflate
        return format_spec(family("png"), own | {"level": deflate.level} | ({"paper": True} if deflate.paper else deflate.refine.settings()))

    @property
    def fingerprint(self) -> str:
        return f"png method {METHOD_VERSION}; {self.deflate.fingerprint}"

    def __repr__(self) -> str:
        return f"<PngPredictor {self.spec}>"

    def logprobs(self, context: bytes) -> np.ndarray:
        stream, prediction = self.filtered(crop(context, self.context_window))
        filtered = self.deflate.logprobs(stream)
        if self.smooth:
            filtered = np.logaddexp(filtered + math.log1p(-self.smooth), math.log(self.smooth) + near_zero(stream, self.width + 1))
        return np.roll(filtered, prediction)  # pixel x is filtered byte (x − prediction) mod 256

    def filtered(self, pixels: bytes) -> tuple[bytes, int]:
        """(the PNG-filtered stream of ``pixels`` up to the next pixel, that pixel's
        prediction): each row's filter-type byte then its filtered pixels."""
        n, width = len(pixels), self.width
        height = n // width + 1  # the next pixel's row included
        rows = np.zeros(height * width, dtype=np.uint8)
        rows[:n] = np.frombuffer(pixels, dtype=np.uint8)
        rows = rows.reshape(height, width)
        guesses = predictions(rows)
        fixed = None if self.filter == "adaptive" else FILTERS.index(self.filter)
        types = row_filters(rows, guesses, fixed)
        chosen = np.take_along_axis(guesses, types[None, :, None], axis=0)[0]
        residual = ((rows.astype(np.int64) - chosen) & 0xFF).astype(np.uint8)
        stream = np.concatenate([types[:, None].astype(np.uint8), residual], axis=1).reshape(-1)
        row, column = divmod(n, width)
        return stream[: n + row + 1].tobytes(), int(chosen[row, column]) % ALPHABET

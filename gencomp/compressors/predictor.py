"""Compressors as predictors, through code-length differences.

The paper's method (``paper``): p(b | x) ∝ 2^-ℓ(x·b), ℓ the codec's one-shot compressed
length in bits; only the 256 lengths ℓ(x·b) are needed (:meth:`CompressorPredictor.candidate_lengths`).
The refined method (the default) is a better model of the same codec: each codec's finest
lengths (:meth:`~CompressorPredictor.fine_bits`), several views of the context averaged,
shuffled-prefix views on short contexts (:func:`~gencomp.compressors.literals.prime`) and
look-ahead over the continuations the context suggests (:mod:`gencomp.compressors.lookahead`),
as :class:`~gencomp.compressors.refinements.Refinements` sets them. The fast paths (a
copied codec state per candidate, threads from ``THREADS_FROM`` bytes of context, the
previous call's scores reused) give exactly the naive lengths. The README's "How it works"
says why each refinement helps; bench/README.md what each was measured to gain.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Sequence

import numpy as np

from gencomp.errors import SpecError
from gencomp.compressors.literals import CANDIDATES, Literals, prime
from gencomp.compressors.lookahead import continuations, marginalise
from gencomp.compressors.refinements import Refinements
from gencomp.mixture import METHOD_VERSION as MIX_VERSION, Experts, Mixture
from gencomp.predictor import DEFAULT_CONTEXT_WINDOW, crop, from_code_lengths, normalize
from gencomp.signals import ctrl_c_deferred
from gencomp.spec import family, format_spec

_WORKERS = max(1, min(4, os.cpu_count() or 1))
THREADS_FROM = 4096  # bytes of context; measured crossover on 2 cores
# Bump when the refined method's numbers change for the same spec and codec library, so
# that a decoder refuses files coded by another version instead of decoding garbage.
METHOD_VERSION = 3
# Refined method, measured on text (bench/compressor_xent.py): views starting 64 bytes apart move
# the block's Huffman header noise (±10 bits for one byte more) enough to average it out,
# where views 1 byte apart did not help; bytes absent from the context are all scored
# alike (a new symbol in the tree), from this many stand-ins: on text that is 3-4× fewer
# compressions, and the mean length did as well as scoring each byte or the mean probability.
OFFSET_STEP = 64
# Priming, measured on the tuning text (bench/compressor_xent.py): a 512-byte pad saved
# 2-4% of a 2 KB chunk's bits for gzip and zstd, most of it in the first 256 bytes; from
# 512 bytes of context on, the codecs' own literal codes do as well. 2-8 views did about
# as well; weight 0.7 did as well as 0.5 for gzip and 0.3% better for zstd, but on random
# bytes, where the context's frequencies are noise, it cost 0.31 bits/byte there to 0.5's 0.13.
PRIMED_BELOW = 512
PRIME_WEIGHT = 0.5
# With ``adapt``, the exponents mixed online, as multiples of the spec's (which was tuned
# on text): a grid set once, not tuned; measured on held-out data in bench/compressor_xent.py.
ADAPT_SCALES = (0.5, 0.75, 1.0, 1.25)


def _sharpened_means(views: list[np.ndarray], factors: np.ndarray) -> np.ndarray:
    """For each of ``factors``, the log of the mean of the distributions ``views`` raised to
    it and renormalised (a factor of 1 leaves them as given): one row per factor."""
    stack = np.stack(views)
    sharpened = normalize(factors[:, None, None] * stack)
    sharpened[factors == 1] = stack
    if len(views) == 1:
        return sharpened[:, 0]
    return np.logaddexp.reduce(sharpened, axis=1) - math.log(len(views))


def naive_lengths(compress: Callable[[bytes], bytes], context: bytes) -> np.ndarray:
    """ℓ(x·b) in bytes for every b by 256 full recompressions: the reference method."""
    return np.array([len(compress(context + b)) for b in CANDIDATES], dtype=np.int64)


class CompressorPredictor:
    """Base class: a codec's one-shot ``compress`` turned into a next-byte predictor.

    With ``paper=True`` the distribution is the paper's, from :meth:`candidate_lengths`.
    Otherwise it comes from :meth:`continuation_bits` (the codec's finest lengths), refined
    by :class:`Refinements`: the mean of the distributions of ``views`` context starts, each
    adding, with ``horizon`` > 1, the prefixes of up to ``continuations`` suggested
    continuations (with ``ends``, the shortest and the whole one only; credited ``bonus``
    bits), raised to ``exponent``; on a short context, mixed with ``shuffled_views``; with
    ``pool``, the bytes seen equally often share one length. Each codec's ``TUNED`` settings
    are the default (so ``GzipPredictor()`` is ``load_predictor("gzip")``); ``FAST``, where
    there is one, is ``NAME:fast``; options given override either.
    """

    name: str = ""
    levels: range = range(0)  # the codec's valid levels
    default_level: int = 0
    threaded = True  # spread candidates over threads from THREADS_FROM bytes of context
    TUNED = Refinements()
    FAST: Refinements | None = None

    def __init__(
        self,
        level: int | None = None,
        context_window: int = DEFAULT_CONTEXT_WINDOW,
        *,
        paper: bool = False,
        fast: bool = False,
        **refinements: Any,
    ) -> None:
        level = self.default_level if level is None else level
        if level not in self.levels:
            raise SpecError(f"{self.name} level must be {self.levels[0]}..{self.levels[-1]}, got {level}")
        if context_window < 1:
            raise SpecError(f"context_window must be at least 1 byte, got {context_window}")
        unrefined = Refinements().settings()  # what the paper's method is: no refinement at all
        refining = sorted(name for name, value in refinements.items() if unrefined.get(name) != value)
        if paper and (fast or refining):
            extra = ", ".join((["fast"] if fast else []) + refining)
            raise SpecError(f"{self.name}:paper is the one-step paper method; drop {extra}")
        if fast and self.FAST is None:
            raise SpecError(f"{self.name} has no fast preset (gzip and zstd have)")
        self.level = level
        self.context_window = context_window
        self.paper = paper
        self.refine = (self.FAST if fast else self.TUNED).with_changes(refinements)
        self._threads: ThreadPoolExecutor | None = None
        # bits of x·u by view context x and continuation u: this call's, the previous one's
        self._scored: dict[bytes, dict[bytes, float]] = {}
        self._scored_before: dict[bytes, dict[bytes, float]] = {}
        self.adapt = self.refine.adapt and not paper
        self._adaptive = self._adaptive_mixture() if self.adapt else None

    def _adaptive_mixture(self) -> Mixture:
        """With ``adapt``: the distributions at ADAPT_SCALES × ``exponent``, from one scoring,
        mixed with weights learned from the context (gencomp.mixture)."""
        exponents = [min(4.0, self.refine.exponent * scale) for scale in ADAPT_SCALES]
        experts = Experts(lambda context: self._refined(context, exponents, 1.0), [f"exponent={s!r}" for s in exponents], self.context_window)
        return Mixture(experts.components())

    @property
    def spec(self) -> str:
        settings = {"level": self.level, "context_window": self.context_window}
        return format_spec(family(self.name), settings | ({"paper": True} if self.paper else self.refine.settings()))

    @property
    def fingerprint(self) -> str:
        adapt = f" mix {MIX_VERSION}" if self.adapt else ""
        return f"{self.name} {self.library_version()} method {METHOD_VERSION}{adapt}"

    @staticmethod
    def library_version() -> str:
        """The codec library's version: another version may give other lengths."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.spec}>"

    def compress(self, data: bytes) -> bytes:
        """The codec's own one-shot compression, whose lengths define the paper's predictor."""
        raise NotImplementedError

    def candidate_lengths(self, context: bytes) -> np.ndarray:
        """ℓ(x·b) in bytes for all 256 b, x the context as given (not cropped)."""
        work = lambda part: [len(self.compress(context + b)) for b in part]  # noqa: E731
        return self._map(work, CANDIDATES, parallel=len(context) >= THREADS_FROM)

    def fine_bits(self, data: bytes) -> int:
        """The compressed size of ``data`` in bits, as finely as the codec tells it (here
        8 × the bytes; subclasses drop container and bitstream padding)."""
        return 8 * len(self.compress(data))

    def continuation_bits(self, context: bytes, candidates: Sequence[bytes]) -> np.ndarray:
        """ℓ(x·u) in bits for each candidate continuation u, by :meth:`fine_bits` (gzip
        counts the bits of a stream fed the context once)."""
        work = lambda part: [self.fine_bits(context + u) for u in part]  # noqa: E731
        return self._map(work, candidates, parallel=len(context) >= THREADS_FROM).astype(np.float64)

    def logprobs(self, context: bytes) -> np.ndarray:
        context = crop(context, self.context_window)
        if self.paper:
            return from_code_lengths(8.0 * self.candidate_lengths(context))
        if self._adaptive is not None:
            return self._adaptive.logprobs(context)
        return self._refined(context, (self.refine.exponent,), self.refine.exponent)[0]

    def _refined(self, context: bytes, exponents: Sequence[float], base: float) -> list[np.ndarray]:
        """The refined distribution at each of ``exponents``, from one scoring of the
        views, whose look-ahead weights are raised to ``base`` (the others rescale them)."""
        self._scored_before, self._scored = self._scored, {}
        refine = self.refine
        literals = Literals.of(context, refine.pool)
        extra = continuations(context, refine.continuations, refine.horizon, refine.ends)
        views = [
            self._view_logprobs(context[shift:], literals, extra, base)
            for shift in range(0, min(refine.views * OFFSET_STEP, len(context) + 1), OFFSET_STEP)
        ]
        primed = []
        if refine.shuffled_views and 0 < len(context) < PRIMED_BELOW:
            primed = [self._view_logprobs(prime(context, seed) + context, literals, extra, base) for seed in range(refine.shuffled_views)]
        factors = np.asarray(exponents, dtype=np.float64) / base
        mixture = _sharpened_means(views, factors)
        if primed:
            primed_mean = _sharpened_means(primed, factors)
            mixture = np.logaddexp(mixture + math.log1p(-PRIME_WEIGHT), primed_mean + math.log(PRIME_WEIGHT))
        return list(normalize(mixture))

    def _view_logprobs(self, context: bytes, literals: Literals, extra: list[bytes], exponent: float) -> np.ndarray:
        """The look-ahead distribution from one view of the context (an offset, or a primed
        context)."""
        bits = self._view_bits(context, literals.scored + extra)
        single = literals.spread(bits[: len(literals.scored)])
        return marginalise(np.concatenate([single, bits[len(literals.scored) :]]), extra, exponent, self.refine.bonus)

    def _view_bits(self, context: bytes, candidates: list[bytes]) -> np.ndarray:
        """:meth:`continuation_bits`, reusing the previous call's: when the context has grown
        by one byte c since (the coder's and the sampler's walk), x·v was scored then as
        x[:-1]·(c·v) for each continuation c·v suggested then. Measured on walks over
        held-out data: 1.2-1.4× for gzip's default (text, image, audio), 1.06× for zstd's
        on text; the results are bit-identical."""
        before = self._scored_before.get(context[:-1], {}) if context else {}
        last = context[-1:]
        todo = [u for u in candidates if last + u not in before]
        fresh = iter(self.continuation_bits(context, todo)) if todo else iter(())
        bits = np.array([before[last + u] if last + u in before else next(fresh) for u in candidates])
        self._scored[context] = dict(zip(candidates, bits))
        return bits

    def _map(self, work: Callable[[list[bytes]], list[int]], items: Sequence[bytes], parallel: bool) -> np.ndarray:
        """Run ``work`` over ``items``, in contiguous slices on threads if ``parallel``."""
        items = list(items)
        if not (parallel and self.threaded) or _WORKERS == 1:
            return np.array(work(items), dtype=np.int64)
        if self._threads is None:
            self._threads = ThreadPoolExecutor(_WORKERS, thread_name_prefix=self.name)
        step = -(-len(items) // _WORKERS)
        with ctrl_c_deferred():  # submit may start a thread (gencomp.signals says why)
            parts = [self._threads.submit(work, items[i : i + step]) for i in range(0, len(items), step)]
        lengths = [n for part in parts for n in part.result()]
        return np.array(lengths, dtype=np.int64)

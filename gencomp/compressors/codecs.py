"""The four classical codecs as predictors: how each one compresses, its paper lengths and
its finest lengths; the method they share is :class:`gencomp.compressors.predictor.CompressorPredictor`.

gzip copies a fed zlib state per candidate (and a libz stream for exact bit counts, see
:mod:`gencomp.compressors.deflate_bits`) instead of recompressing the context; zstd, LZMA and bz2 have
no state to copy and recompress.
"""

from __future__ import annotations

import bz2
import lzma
import threading
import zlib
from typing import Any, Sequence

import numpy as np
import zstandard

from gencomp.compressors.predictor import THREADS_FROM, CompressorPredictor
from gencomp.compressors.deflate_bits import BitDeflate, DeflateState, c_library_version
from gencomp.compressors.literals import CANDIDATES
from gencomp.compressors.refinements import Refinements
from gencomp.predictor import DEFAULT_CONTEXT_WINDOW
from gencomp.compressors.zstd_bits import content_bits


class GzipPredictor(CompressorPredictor):
    """DEFLATE (zlib, as in gzip) at ``level``: the paper's lengths are ``zlib.compress``'s,
    the refined ones the exact bit count of the same DEFLATE stream (libz)."""

    name = "gzip"
    levels, default_level = range(0, 10), 9
    # Since 0.5: the fast preset's scoring over 4 views and 2 shuffled ones, which coded
    # held-out text, images and audio in fewer bits than 0.4's default (12 views, every
    # prefix of 16 continuations) at 3.8-5x its speed (bench/README.md, "Defaults from the presets")
    TUNED = Refinements(horizon=8, continuations=8, views=4, exponent=0.55, bonus=6.0, shuffled_views=2, pool=True, ends=True, adapt=True)
    # for speed: ~20x the 0.1 default's bytes/s, within 3% of 0.3's default bits (bench/README.md)
    FAST = TUNED.with_changes({"continuations": 4, "views": 1, "shuffled_views": 0})
    COPY_FROM = 1024  # bytes of context; below, recompressing is as cheap as copying state

    def __init__(self, level: int | None = None, context_window: int = DEFAULT_CONTEXT_WINDOW, **refine: Any) -> None:
        super().__init__(level, context_window, **refine)
        self._state: DeflateState | None = None
        self._bit_states: list[BitDeflate] = []  # one per context offset in use

    def compress(self, data: bytes) -> bytes:
        return zlib.compress(data, self.level)

    @staticmethod
    def library_version() -> str:
        return f"zlib {zlib.ZLIB_RUNTIME_VERSION}"

    def candidate_lengths(self, context: bytes) -> np.ndarray:
        if len(context) < self.COPY_FROM:
            return super().candidate_lengths(context)
        state = self._state_for(context)

        def tail_lengths(part: list[bytes]) -> list[int]:
            out = []
            for b in part:
                branch = state.compressor.copy()
                out.append(state.emitted + len(branch.compress(b)) + len(branch.flush()))
            return out

        return self._map(tail_lengths, CANDIDATES, parallel=len(context) >= THREADS_FROM)

    def continuation_bits(self, context: bytes, candidates: Sequence[bytes]) -> np.ndarray:
        state = self._bit_state_for(context)
        work = state.bits_after
        return self._map(work, candidates, parallel=len(context) >= THREADS_FROM).astype(np.float64)

    def _state_for(self, context: bytes) -> DeflateState:
        """Reuse the fed compressor when the context only grew; else start anew."""
        state = self._state
        if state is None or not context.startswith(state.context) or not state.fits(len(context)):
            state = self._state = DeflateState(self.level, context)
        elif len(context) > len(state.context):
            state.feed(context[len(state.context) :])
        return state

    def _bit_state_for(self, context: bytes) -> BitDeflate:
        """A libz stream fed ``context``: one whose context this one extends is fed the new
        bytes; else a new one replaces the least recently used (one kept per view)."""
        for i, state in enumerate(self._bit_states):
            if context.startswith(state.context) and state.fits(len(context)):
                self._bit_states.append(self._bit_states.pop(i))
                if len(context) > len(state.context):
                    state.feed(context[len(state.context) :])
                return state
        state = BitDeflate(self.level, context, margin=self.refine.horizon)
        self._bit_states = (self._bit_states + [state])[-(self.refine.views + self.refine.shuffled_views) :]
        return state


class ZstdPredictor(CompressorPredictor):
    """Zstandard at ``level``: the paper's lengths are ``ZstdCompressor(level).compress``'s,
    the refined ones the same frame's bits less its bitstreams' padding (gencomp.compressors.zstd_bits)."""

    name = "zstd"
    levels, default_level = range(-7, 23), 3
    # Since 0.5, as gzip's: the fast preset's scoring over 4 views and 2 shuffled ones (0.4's
    # default: 8 views, every prefix, bonus 4, exponent 0.7; fewer bits at 2.5-3.2x its speed)
    TUNED = Refinements(horizon=8, views=4, exponent=0.6, bonus=8.0, shuffled_views=2, pool=True, ends=True, adapt=True)
    # for speed: ~10x the 0.1 default's bytes/s, within 3% of 0.3's default bits (bench/README.md)
    FAST = TUNED.with_changes({"views": 1, "shuffled_views": 0})

    def __init__(self, level: int | None = None, context_window: int = DEFAULT_CONTEXT_WINDOW, **refine: Any) -> None:
        super().__init__(level, context_window, **refine)
        self._local = threading.local()  # a ZstdCompressor may not be shared by threads

    def compress(self, data: bytes) -> bytes:
        compressor = getattr(self._local, "compressor", None)
        if compressor is None:
            compressor = self._local.compressor = zstandard.ZstdCompressor(level=self.level)
        return compressor.compress(data)

    def fine_bits(self, data: bytes) -> int:
        return content_bits(self.compress(data))

    @staticmethod
    def library_version() -> str:
        return f"libzstd {zstandard.ZSTD_VERSION[0]}.{zstandard.ZSTD_VERSION[1]}.{zstandard.ZSTD_VERSION[2]}"


class LzmaPredictor(CompressorPredictor):
    """LZMA at ``preset``: the paper's lengths are ``lzma.compress``'s (LZMA2 in .xz), the
    refined ones raw LZMA1's (:meth:`fine_bits`)."""

    name = "lzma"
    levels, default_level = range(0, 10), 6  # the preset
    TUNED = Refinements(horizon=8, views=2, exponent=0.8, shuffled_views=4, adapt=True)
    # measured: threads ran at 0.7× — each call allocates the 8 MB dictionary's match
    # finder, and two threads doing so contend in the allocator
    threaded = False

    def compress(self, data: bytes) -> bytes:
        return lzma.compress(data, preset=self.level)

    def fine_bits(self, data: bytes) -> int:
        """8 × the bytes of raw LZMA1 with the preset's settings: the range coder's own
        end, no xz container (whose blocks are padded to 4 bytes). The dictionary just
        covers the context, as a larger one costs time to set up and finds nothing more."""
        dictionary = max(1 << 12, 1 << (self.context_window + 64).bit_length())
        filters = [{"id": lzma.FILTER_LZMA1, "preset": self.level, "dict_size": dictionary}]
        return 8 * len(lzma.compress(data, format=lzma.FORMAT_RAW, filters=filters))

    @staticmethod
    def library_version() -> str:
        return "liblzma " + c_library_version(("liblzma.so.5", "liblzma.dylib"), "lzma_version_string")


class Bz2Predictor(CompressorPredictor):
    """bzip2 at ``level`` (block size ×100 KB); the lengths of ``bz2.compress``."""

    name = "bz2"
    levels, default_level = range(1, 10), 9  # block size ×100 KB
    TUNED = Refinements(horizon=8, views=4, exponent=0.2, shuffled_views=4, adapt=True)

    def compress(self, data: bytes) -> bytes:
        return bz2.compress(data, self.level)

    @staticmethod
    def library_version() -> str:
        return "libbz2 " + c_library_version(("libbz2.so.1.0", "libbz2.so.1", "libbz2.dylib"), "BZ2_bzlibVersion")


COMPRESSOR_PREDICTORS: dict[str, type[CompressorPredictor]] = {
    cls.name: cls for cls in (GzipPredictor, ZstdPredictor, LzmaPredictor, Bz2Predictor)
}

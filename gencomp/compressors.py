"""Compressors as predictors, through code-length differences (the paper's method).

p(b | x) ∝ 2^-(ℓ(x·b) − ℓ(x)), where ℓ is the compressed length in bits (8 × bytes) that
the codec's own one-shot function gives. Since ℓ(x) does not depend on b, only the 256
lengths ℓ(x·b) are needed.

The naive way recompresses x·b 256 times. The fast paths give exactly the same lengths:
- zlib keeps a compressor that has been fed the context (grown byte by byte while the
  context grows) and, per candidate, copies it, feeds b and flushes. The copy costs a
  memcpy of zlib's state, so the window is set as small as the context allows; for data
  that fits in the smaller window, DEFLATE's matches and blocks are the same (checked
  against ``zlib.compress`` in the tests).
- From 4 KB of context on, the 256 candidates are spread over threads (zlib, zstd, LZMA
  and bz2 release the GIL while they compress). Below that, handing the GIL back and
  forth costs more than it saves (measured: bench/compressor_speed.py).
"""

from __future__ import annotations

import bz2
import lzma
import os
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import numpy as np
import zstandard

from gencomp.predictor import ALPHABET, DEFAULT_CONTEXT_WINDOW, SpecError, crop, from_code_lengths

CANDIDATES = [bytes([b]) for b in range(ALPHABET)]
_WORKERS = max(1, min(4, os.cpu_count() or 1))
THREADS_FROM = 4096  # bytes of context; measured crossover on 2 cores


def naive_lengths(compress: Callable[[bytes], bytes], context: bytes) -> np.ndarray:
    """ℓ(x·b) in bytes for every b by 256 full recompressions: the reference method."""
    return np.array([len(compress(context + b)) for b in CANDIDATES], dtype=np.int64)


class CompressorPredictor:
    """Base class: a codec's one-shot ``compress`` turned into a next-byte predictor."""

    name: str = ""
    threaded = True  # spread candidates over threads from THREADS_FROM bytes of context

    def __init__(self, level: int, context_window: int = DEFAULT_CONTEXT_WINDOW) -> None:
        if context_window < 1:
            raise SpecError(f"context_window must be at least 1 byte, got {context_window}")
        self.level = level
        self.context_window = context_window
        self._pool: ThreadPoolExecutor | None = None

    @property
    def spec(self) -> str:
        return f"{self.name}:level={self.level},context_window={self.context_window}"

    @property
    def fingerprint(self) -> str:
        return f"{self.name} {self.library_version()}"

    @staticmethod
    def library_version() -> str:
        """The codec library's version: another version may give other lengths."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.spec}>"

    def compress(self, data: bytes) -> bytes:
        """The codec's own one-shot compression, whose lengths define the predictor."""
        raise NotImplementedError

    def candidate_lengths(self, context: bytes) -> np.ndarray:
        """ℓ(x·b) in bytes for all 256 b, x the context as given (not cropped)."""
        work = lambda part: [len(self.compress(context + b)) for b in part]  # noqa: E731
        return self._map(work, parallel=len(context) >= THREADS_FROM)

    def logprobs(self, context: bytes) -> np.ndarray:
        lengths = self.candidate_lengths(crop(context, self.context_window))
        return from_code_lengths(8.0 * lengths)

    def _map(self, work: Callable[[list[bytes]], list[int]], parallel: bool) -> np.ndarray:
        """Run ``work`` over the candidates, in contiguous slices on threads if ``parallel``."""
        if not (parallel and self.threaded) or _WORKERS == 1:
            return np.array(work(CANDIDATES), dtype=np.int64)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(_WORKERS, thread_name_prefix=self.name)
        step = -(-ALPHABET // _WORKERS)
        parts = [CANDIDATES[i : i + step] for i in range(0, ALPHABET, step)]
        lengths = [n for chunk in self._pool.map(work, parts) for n in chunk]
        return np.array(lengths, dtype=np.int64)


class _DeflateState:
    """A zlib compressor that has consumed ``context``; ``emitted`` bytes came out so far."""

    MIN_LOOKAHEAD = 262  # zlib: MAX_MATCH + MIN_MATCH + 1

    def __init__(self, level: int, context: bytes) -> None:
        # Smallest window whose reach (w_size - MIN_LOOKAHEAD) covers context + 1 byte:
        # then no match is cut short and the stream equals the one wbits=15 would give.
        self.wbits = next(
            (w for w in range(10, 15) if len(context) + 1 <= (1 << w) - self.MIN_LOOKAHEAD), 15
        )
        self.compressor = zlib.compressobj(level, zlib.DEFLATED, self.wbits)
        self.context = b""
        self.emitted = 0
        self.feed(context)

    def fits(self, size: int) -> bool:
        return self.wbits == 15 or size + 1 <= (1 << self.wbits) - self.MIN_LOOKAHEAD

    def feed(self, data: bytes) -> None:
        self.emitted += len(self.compressor.compress(data))
        self.context += data


class GzipPredictor(CompressorPredictor):
    """DEFLATE (zlib, as in gzip) at ``level``; the lengths of ``zlib.compress``."""

    name = "gzip"
    COPY_FROM = 1024  # bytes of context; below, recompressing is as cheap as copying state

    def __init__(self, level: int = 9, context_window: int = DEFAULT_CONTEXT_WINDOW) -> None:
        if not 0 <= level <= 9:
            raise SpecError(f"gzip level must be 0..9, got {level}")
        super().__init__(level, context_window)
        self._state: _DeflateState | None = None

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

        return self._map(tail_lengths, parallel=len(context) >= THREADS_FROM)

    def _state_for(self, context: bytes) -> _DeflateState:
        """Reuse the fed compressor when the context only grew; else start anew."""
        state = self._state
        if state is None or not context.startswith(state.context) or not state.fits(len(context)):
            state = self._state = _DeflateState(self.level, context)
        elif len(context) > len(state.context):
            state.feed(context[len(state.context) :])
        return state


class ZstdPredictor(CompressorPredictor):
    """Zstandard at ``level``; the lengths of ``ZstdCompressor(level).compress``."""

    name = "zstd"

    def __init__(self, level: int = 3, context_window: int = DEFAULT_CONTEXT_WINDOW) -> None:
        if not -7 <= level <= 22:
            raise SpecError(f"zstd level must be -7..22, got {level}")
        super().__init__(level, context_window)
        self._local = threading.local()  # a ZstdCompressor may not be shared by threads

    def compress(self, data: bytes) -> bytes:
        compressor = getattr(self._local, "compressor", None)
        if compressor is None:
            compressor = self._local.compressor = zstandard.ZstdCompressor(level=self.level)
        return compressor.compress(data)

    @staticmethod
    def library_version() -> str:
        return f"libzstd {zstandard.ZSTD_VERSION[0]}.{zstandard.ZSTD_VERSION[1]}.{zstandard.ZSTD_VERSION[2]}"


class LzmaPredictor(CompressorPredictor):
    """LZMA2 in the .xz container at ``preset``; the lengths of ``lzma.compress``."""

    name = "lzma"
    # measured: threads ran at 0.7× — each call allocates the 8 MB dictionary's match
    # finder, and two threads doing so contend in the allocator
    threaded = False

    def __init__(self, level: int = 6, context_window: int = DEFAULT_CONTEXT_WINDOW) -> None:
        if not 0 <= level <= 9:
            raise SpecError(f"lzma preset must be 0..9, got {level}")
        super().__init__(level, context_window)

    def compress(self, data: bytes) -> bytes:
        return lzma.compress(data, preset=self.level)

    @staticmethod
    def library_version() -> str:
        return "liblzma " + _c_library_version(("liblzma.so.5", "liblzma.dylib"), "lzma_version_string")


class Bz2Predictor(CompressorPredictor):
    """bzip2 at ``level`` (block size ×100 KB); the lengths of ``bz2.compress``."""

    name = "bz2"

    def __init__(self, level: int = 9, context_window: int = DEFAULT_CONTEXT_WINDOW) -> None:
        if not 1 <= level <= 9:
            raise SpecError(f"bz2 level must be 1..9, got {level}")
        super().__init__(level, context_window)

    def compress(self, data: bytes) -> bytes:
        return bz2.compress(data, self.level)

    @staticmethod
    def library_version() -> str:
        return "libbz2 " + _c_library_version(("libbz2.so.1.0", "libbz2.so.1", "libbz2.dylib"), "BZ2_bzlibVersion")


def _c_library_version(libraries: tuple[str, ...], function: str) -> str:
    """Ask a loaded C library for its version string (liblzma and libbz2 tell Python none)."""
    import ctypes

    for library in libraries:
        try:
            version = getattr(ctypes.CDLL(library), function)
        except (OSError, AttributeError):
            continue
        version.restype = ctypes.c_char_p
        return version().decode().split(",")[0]
    return "unknown"


COMPRESSOR_PREDICTORS: dict[str, type[CompressorPredictor]] = {
    cls.name: cls for cls in (GzipPredictor, ZstdPredictor, LzmaPredictor, Bz2Predictor)
}

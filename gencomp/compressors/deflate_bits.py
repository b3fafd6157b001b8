"""Exact DEFLATE code lengths through the libz that Python's zlib uses: a compressor
state to copy per candidate, and one that closes the block and reads the pending bits
(ctypes, since Python's zlib exposes neither); the version of a loaded C library."""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
import zlib
from typing import Any, Sequence

from gencomp.errors import GencompError


_MIN_LOOKAHEAD = 262  # zlib: MAX_MATCH + MIN_MATCH + 1


def _deflate_wbits(size: int) -> int:
    """Smallest window whose reach (w_size - MIN_LOOKAHEAD) covers ``size`` bytes: then no
    match is cut short and the stream equals the one wbits=15 would give."""
    return next((w for w in range(10, 15) if size <= (1 << w) - _MIN_LOOKAHEAD), 15)


_WHOLE_CHAINS_LEVEL = 9  # max_chain 4096, 1024 inside a long match: see _deflate_mem_level


def _deflate_mem_level(level: int, size: int) -> int:
    """The smallest memLevel whose symbol buffer holds a block of ``size`` bytes (libz
    closes a block at 2^(memLevel + 6) - 1 symbols), up to zlib's default 8: its smaller
    hash table and buffers make the copy per candidate cheaper (1.2× a candidate at 2 KB).
    A smaller hash table only adds colliding entries to the hash chains, which the matcher
    rejects by their bytes; so the matches are the same as long as the chains are walked
    whole, which level 9 does up to 1024 bytes of window and, beyond, almost always
    (measured: 44,847 candidate lengths of 2 KB text, image, audio, random and periodic
    data, all equal). At other levels the chains are cut short: zlib's default there."""
    if level != _WHOLE_CHAINS_LEVEL:
        return zlib.DEF_MEM_LEVEL
    return min(zlib.DEF_MEM_LEVEL, max(1, size.bit_length() - 6))


class DeflateState:
    """A zlib compressor that has consumed ``context``; ``emitted`` bytes came out so far."""

    def __init__(self, level: int, context: bytes) -> None:
        self.wbits = _deflate_wbits(len(context) + 1)
        self.compressor = zlib.compressobj(level, zlib.DEFLATED, self.wbits)
        self.context = b""
        self.emitted = 0
        self.feed(context)

    def fits(self, size: int) -> bool:
        """Whether this window still gives exact lengths for a context of ``size`` bytes
        plus one candidate byte."""
        return _deflate_wbits(size + 1) <= self.wbits

    def feed(self, data: bytes) -> None:
        self.emitted += len(self.compressor.compress(data))
        self.context += data


# ----------------------------------------------------- bit-exact DEFLATE lengths (libz)


class _ZStream(ctypes.Structure):
    """zlib.h's z_stream (``next_in`` a char pointer: assigning bytes points it at them and
    keeps them alive with the structure, no copy)."""

    _fields_ = [
        ("next_in", ctypes.c_char_p), ("avail_in", ctypes.c_uint), ("total_in", ctypes.c_ulong),
        ("next_out", ctypes.c_void_p), ("avail_out", ctypes.c_uint), ("total_out", ctypes.c_ulong),
        ("msg", ctypes.c_char_p), ("state", ctypes.c_void_p),
        ("zalloc", ctypes.c_void_p), ("zfree", ctypes.c_void_p), ("opaque", ctypes.c_void_p),
        ("data_type", ctypes.c_int), ("adler", ctypes.c_ulong), ("reserved", ctypes.c_ulong),
    ]  # fmt: skip


_Z_NO_FLUSH, _Z_BLOCK, _Z_OK, _Z_BUF_ERROR = 0, 5, 0, -5
_OUT_CHUNK = 1 << 16  # bytes of output buffer per deflate call (output is discarded)


def _libz() -> ctypes.CDLL:
    """The libz that Python's zlib uses (same version: the lengths match zlib.compress's)."""
    name = ctypes.util.find_library("z") or "libz.so.1"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        raise GencompError(f"gzip's bit-exact lengths need libz ({name} not found); use `gzip:paper`") from None
    lib.zlibVersion.restype = ctypes.c_char_p
    if lib.zlibVersion().decode() != zlib.ZLIB_RUNTIME_VERSION:
        raise GencompError(
            f"libz {lib.zlibVersion().decode()} differs from Python's zlib {zlib.ZLIB_RUNTIME_VERSION}; use `gzip:paper`"
        )
    return lib


class _Scratch:
    """One thread's reusable ctypes objects for :meth:`BitDeflate.bits_after`: a stream to
    copy into, the output buffer, the pending counters. Reusing them, and passing
    prebuilt references, made a candidate 1.15-1.2× faster (most of its cost is libz's)."""

    def __init__(self) -> None:
        self.branch = _ZStream()
        self.branch_ref = ctypes.byref(self.branch)
        self.out = ctypes.create_string_buffer(_OUT_CHUNK)  # content thrown away
        self.out_address = ctypes.addressof(self.out)
        self.pending, self.bits = ctypes.c_uint(), ctypes.c_int()
        self.pending_ref, self.bits_ref = ctypes.byref(self.pending), ctypes.byref(self.bits)


class BitDeflate:
    """A raw DEFLATE stream (libz) fed ``context``; :meth:`bits_after` gives the exact
    number of bits the stream holds once a continuation is added and the block is closed
    (Z_BLOCK: the block and its end code are written, nothing is padded to a byte)."""

    _lib: ctypes.CDLL | None = None
    _local = threading.local()  # per-thread _Scratch

    def __init__(self, level: int, context: bytes, margin: int = 1) -> None:
        if BitDeflate._lib is None:
            BitDeflate._lib = _libz()
        self.lib = BitDeflate._lib
        self.level = level
        self.margin = margin  # the longest continuation: the window must reach over it too
        self.wbits = _deflate_wbits(len(context) + margin)
        self.mem_level = _deflate_mem_level(level, len(context) + margin)
        self.stream = _ZStream()
        self.stream_ref = ctypes.byref(self.stream)
        version = self.lib.zlibVersion()
        rc = self.lib.deflateInit2_(
            self.stream_ref, level, zlib.DEFLATED, -self.wbits, self.mem_level,
            zlib.Z_DEFAULT_STRATEGY, version, ctypes.sizeof(_ZStream),
        )  # fmt: skip
        if rc != _Z_OK:
            raise MemoryError(f"deflateInit2 failed ({rc})")
        self.context = b""
        self.feed(context)

    def __del__(self) -> None:
        if getattr(self, "stream", None) is not None and self.stream.state:
            self.lib.deflateEnd(self.stream_ref)

    def fits(self, size: int) -> bool:
        """Whether this window and symbol buffer still give exact lengths for a context of
        ``size`` bytes plus the longest continuation."""
        size += self.margin
        return _deflate_wbits(size) <= self.wbits and _deflate_mem_level(self.level, size) <= self.mem_level

    def feed(self, data: bytes) -> None:
        self.stream.next_in, self.stream.avail_in = data, len(data)
        self._deflate(self.stream, self.stream_ref, self._scratch(), _Z_NO_FLUSH)
        self.context += data

    def bits_after(self, continuations: Sequence[bytes]) -> list[int]:
        """The stream's bits with each of ``continuations`` added and the block closed. One
        call for all: the libz functions and this thread's scratch are looked up once, and
        the deflate loop is inline (1 µs of a candidate's 16 µs on 8-bit audio)."""
        if any(len(u) > self.margin for u in continuations):
            raise ValueError(f"a continuation exceeds the margin of {self.margin} bytes")
        lib, scratch, stream_ref = self.lib, self._scratch(), self.stream_ref
        copy, deflate, pending, end = lib.deflateCopy, lib.deflate, lib.deflatePending, lib.deflateEnd
        branch, branch_ref, out_address = scratch.branch, scratch.branch_ref, scratch.out_address
        pending_ref, bits_ref, pending_bytes, pending_bits = scratch.pending_ref, scratch.bits_ref, scratch.pending, scratch.bits
        lengths = []
        for continuation in continuations:
            if copy(branch_ref, stream_ref) != _Z_OK:
                raise MemoryError("deflateCopy failed")
            try:
                branch.next_in, branch.avail_in = continuation, len(continuation)
                while True:  # until the block is fully written (output discarded)
                    branch.next_out, branch.avail_out = out_address, _OUT_CHUNK
                    rc = deflate(branch_ref, _Z_BLOCK)
                    if rc not in (_Z_OK, _Z_BUF_ERROR):
                        raise RuntimeError(f"deflate failed ({rc})")
                    if branch.avail_out != 0:
                        break
                pending(branch_ref, pending_ref, bits_ref)
                lengths.append(8 * (branch.total_out + pending_bytes.value) + pending_bits.value)
            finally:
                end(branch_ref)
        return lengths

    def _scratch(self) -> _Scratch:
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = _Scratch()
        return scratch

    def _deflate(self, stream: _ZStream, stream_ref: Any, scratch: _Scratch, flush: int) -> None:
        """Deflate the loaded input; with Z_BLOCK, go on until the block is fully written."""
        while True:
            stream.next_out, stream.avail_out = scratch.out_address, _OUT_CHUNK
            rc = self.lib.deflate(stream_ref, flush)
            if rc not in (_Z_OK, _Z_BUF_ERROR):
                raise RuntimeError(f"deflate failed ({rc})")
            if stream.avail_out != 0:  # room left: all input taken and, for Z_BLOCK, written
                return


def c_library_version(libraries: tuple[str, ...], function: str) -> str:
    """Ask a loaded C library for its version string (liblzma and libbz2 tell Python none)."""
    for library in libraries:
        try:
            version = getattr(ctypes.CDLL(library), function)
        except (OSError, AttributeError):
            continue
        version.restype = ctypes.c_char_p
        return version().decode().split(",")[0]
    return "unknown"

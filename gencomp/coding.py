"""Arithmetic coding driven by any Predictor: the paper's "prediction is compression".

A next-byte distribution becomes integer frequencies (:func:`quantize`), and a binary
arithmetic coder with 64-bit registers (Witten, Neal & Cleary 1987, the scheme of the
paper's ``arithmetic_coder.py``) narrows an interval by them, one byte at a time.

Why not ``constriction``: fed ``frequency - 1`` as float64 integers, its fast categorical
model (``perfect=False``) would reproduce our integers exactly (its scale is then exactly
1.0 and every partial sum is an exact integer), so quantisation was no reason. Its range
coder, though, ends every stream in whole 32-bit words: measured on 300 chunks of real
gzip-predictor distributions (bench/coding_speed.py), 1.83 bytes a chunk over the quantised
code length (max 4.1) against 0.31 bytes (max 0.95) for this coder, which ends in at most
2 bits plus zero bits to a whole byte. An LLM codes a 2048-byte text chunk into ~300
bytes, so that is 0.6% against 0.1% per chunk. Coding speed (quantise 32 µs, encode 7 µs,
decode 11 µs a byte) is negligible next to any predictor (>= 2 ms a byte).

Cost against the ideal Σ -log2 p: the quantised probability is never below
p·(1 - 2**-24), and the interval rounding loses under 2**-30, so the code exceeds the ideal
by under 1e-6 bits a byte plus the ending, at most 2 + 7 bits a chunk. It can also come
out *below* the ideal: the 1-count floor caps a byte's cost at 32 bits, and gzip's
code-length distributions give some bytes far less than 2**-32.

Encoder and decoder walk the same compute path: for a chunk ``c`` both call
``predictor.logprobs(c[:i])`` (cropped to the predictor's context window) for
i = 0 .. len(c) - 1 in order, and quantise the result with the same integer code.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np

from gencomp.predictor import ALPHABET, Predictor
from gencomp.workers import Pool, in_processes

CHUNK_SIZE = 2048  # bytes: the paper's chunk, coded independently of the others

TOTAL_BITS = 32  # quantised frequencies sum to 2**32; every byte gets at least 1
TOTAL = 1 << TOTAL_BITS
STATE_BITS = 64  # coder registers; an interval is never narrower than 2**62
FULL = 1 << STATE_BITS
HALF = FULL >> 1
QUARTER = FULL >> 2

Advance = Callable[[int], None]  # told how many more input bytes are done


class CorruptStream(ValueError):
    """The coded bits cannot come from this model: a damaged stream or another model."""


def quantize(logprobs: np.ndarray, total_bits: int = TOTAL_BITS) -> np.ndarray:
    """Cumulative integer frequencies, int64[257] from 0 to TOTAL (2**total_bits), of a
    distribution.

    Every byte gets 1 count (so none is impossible), the other TOTAL - 256 counts are
    shared in proportion to p and rounded down, and the few counts rounding leaves over
    go to the most likely byte. Only element-wise float64 operations on the one array,
    then integers: the same ``logprobs`` always give the same integers. The coder needs
    the default ``total_bits``; others serve to compare coders of other precisions.
    """
    total = 1 << total_bits
    top = logprobs.max()
    if not np.isfinite(top):
        raise ValueError("the predictor returned a non-finite log-probability")
    probs = np.exp(logprobs - top)
    probs /= probs.sum()
    freqs = 1 + np.floor(probs * (total - ALPHABET)).astype(np.int64)
    freqs[np.argmax(freqs)] += total - int(freqs.sum())
    cumulative = np.zeros(ALPHABET + 1, dtype=np.int64)
    np.cumsum(freqs, out=cumulative[1:])
    assert freqs.min() >= 1 and cumulative[-1] == total, "quantisation lost a symbol"
    return cumulative


class _Interval:
    """The coding interval [low, low + width) within [0, FULL), kept wider than QUARTER.

    Invariants after every symbol: QUARTER < width and low + width <= FULL. Each symbol
    takes the slice ``step * [start, end)`` with step = width // TOTAL >= 2**30, so the
    rounding wastes less than 2**-30 of the interval (under 1e-9 bits a byte).
    """

    def __init__(self) -> None:
        self.low = 0
        self.width = FULL

    def _narrow(self, start: int, end: int) -> None:
        step = self.width >> TOTAL_BITS
        self.low += step * start
        self.width = step * (end - start)
        while True:
            if self.low + self.width <= HALF:  # in the lower half: the next bit is 0
                bit, offset = 0, 0
            elif self.low >= HALF:  # in the upper half: the next bit is 1
                bit, offset = 1, HALF
            elif self.low >= QUARTER and self.low + self.width <= HALF + QUARTER:
                bit, offset = None, QUARTER  # straddles the middle: the bit is pending
            else:
                break
            self._shift(bit, offset)
            self.low = (self.low - offset) << 1
            self.width <<= 1
        assert QUARTER < self.width and self.low + self.width <= FULL

    def _shift(self, bit: int | None, offset: int) -> None:
        """Called before the interval, less ``offset``, doubles; ``bit`` is decided."""
        raise NotImplementedError


class Encoder(_Interval):
    """Arithmetic encoder: ``encode`` each symbol with its cumulative frequencies, then
    ``finish`` for the bytes."""

    def __init__(self) -> None:
        super().__init__()
        self.pending = 0  # bits owed: the opposite of the next decided bit, this many times
        self.out = bytearray()
        self.byte = 0  # bits not yet a whole byte, and how many
        self.filled = 0

    def encode(self, cumulative: np.ndarray, symbol: int) -> None:
        self._narrow(int(cumulative[symbol]), int(cumulative[symbol + 1]))

    def _shift(self, bit: int | None, offset: int) -> None:
        if bit is None:
            self.pending += 1
        else:
            self._emit(bit)

    def _emit(self, bit: int) -> None:
        self._put(bit)
        for _ in range(self.pending):
            self._put(1 - bit)
        self.pending = 0

    def _put(self, bit: int) -> None:
        self.byte = (self.byte << 1) | bit
        self.filled += 1
        if self.filled == 8:
            self.out.append(self.byte)
            self.byte = self.filled = 0

    def finish(self) -> bytes:
        """The shortest ending: the value with the fewest significant bits inside the
        interval (at most 2, since width > QUARTER), then zero bits to a whole byte; the
        code keeps its trailing zero bytes, so that its size bounds what it can hold (see
        :func:`max_length`). With nothing encoded the interval is all of [0, FULL) and the
        code is empty."""
        for k in range(STATE_BITS + 1):
            unit = 1 << (STATE_BITS - k)
            value = -(-self.low // unit) * unit
            if value < self.low + self.width:
                break
        k = max(k, 1 if self.pending else 0)  # pending bits follow the first bit
        for position in range(k):
            self._emit((value >> (STATE_BITS - 1 - position)) & 1)
        while self.filled:
            self._put(0)
        return bytes(self.out)


class Decoder(_Interval):
    """Arithmetic decoder over the bytes an :class:`Encoder` finished with.

    The encoder emits one bit per interval doubling, so a decoder that has doubled more
    often than its code has bits is decoding past the end of what was coded: a damaged
    stream, another model, or a declared length the code cannot hold. It stops there
    with CorruptStream rather than decode zeros without bound. ``zeros_dropped``: codes
    written by container version 1 lost their trailing zero bytes and get no such check.
    """

    def __init__(self, data: bytes, zeros_dropped: bool = False) -> None:
        super().__init__()
        self.data = data
        self.limit = None if zeros_dropped else STATE_BITS + 8 * len(data)
        self.position = 0  # in bits
        self.value = 0  # the next STATE_BITS bits of the stream; low <= value < low + width
        for _ in range(STATE_BITS):
            self.value = (self.value << 1) | self._next_bit()

    def _next_bit(self) -> int:
        index = self.position >> 3
        bit = (self.data[index] >> (7 - (self.position & 7))) & 1 if index < len(self.data) else 0
        self.position += 1
        return bit

    def decode(self, cumulative: np.ndarray) -> int:
        step = self.width >> TOTAL_BITS
        target = (self.value - self.low) // step
        if not 0 <= target < TOTAL:
            raise CorruptStream("the coded bits fall outside every symbol's interval")
        symbol = int(np.searchsorted(cumulative, target, side="right")) - 1
        self._narrow(int(cumulative[symbol]), int(cumulative[symbol + 1]))
        return symbol

    def _shift(self, bit: int | None, offset: int) -> None:
        if self.limit is not None and self.position >= self.limit:
            raise CorruptStream("the code ends before the data it was to hold")
        self.value = ((self.value - offset) << 1) | self._next_bit()


# the least a byte can cost: the most likely byte's quantised share is at most
# (TOTAL - 255) / TOTAL, since every other byte keeps one count
MIN_BITS_PER_BYTE = -math.log2(1 - (ALPHABET - 1) / TOTAL)


def max_length(code_size: int) -> int:
    """The most bytes a code of ``code_size`` bytes can hold. Each symbol narrows the
    interval to at most its quantised probability and the encoder emits a bit per
    doubling, ending with the interval wider than a quarter: Σ -log2 q < 8·size + 2."""
    return math.floor((8 * code_size + 2) / MIN_BITS_PER_BYTE)


# ------------------------------------------------------------------------ chunks


@dataclass(frozen=True)
class CodedChunk:
    """One chunk's code and the ideal code length Σ -log2 p(byte) under the predictor."""

    data: bytes
    ideal_bits: float


def context(data: bytes | bytearray, i: int, window: int) -> bytes:
    """What the predictor sees before byte i: the last ``window`` bytes (all if 0). The
    same as ``crop(data[:i], window)`` without copying the whole prefix, which would make
    a long stream (chunk size 0) quadratic."""
    return bytes(data[max(0, i - window) if window else 0 : i])


def encode_chunk(predictor: Predictor, chunk: bytes, advance: Advance | None = None) -> CodedChunk:
    """Code a chunk on its own: the context starts empty and slides over the window."""
    encoder = Encoder()
    nats = 0.0
    for i, byte in enumerate(chunk):
        logprobs = predictor.logprobs(context(chunk, i, predictor.context_window))
        encoder.encode(quantize(logprobs), byte)
        nats -= float(logprobs[byte])
        if advance:
            advance(1)
    return CodedChunk(encoder.finish(), nats / math.log(2))


def decode_chunk(
    predictor: Predictor,
    code: bytes,
    length: int,
    advance: Advance | None = None,
    zeros_dropped: bool = False,
) -> bytes:
    """Inverse of :func:`encode_chunk`: ``length`` bytes from ``code``, same calls in order."""
    decoder = Decoder(code, zeros_dropped)
    out = bytearray()
    for i in range(length):
        logprobs = predictor.logprobs(context(out, i, predictor.context_window))
        out.append(decoder.decode(quantize(logprobs)))
        if advance:
            advance(1)
    return bytes(out)


def chunk_lengths(length: int, chunk_size: int = CHUNK_SIZE) -> list[int]:
    """Lengths of the chunks ``length`` bytes split into; chunk_size 0 is one stream."""
    if chunk_size < 0:
        raise ValueError(f"chunk size must be >= 0 (0: one stream), got {chunk_size}")
    size = chunk_size or max(length, 1)
    return [min(size, length - start) for start in range(0, length, size)]


def split_into(data: bytes, sizes: Sequence[int]) -> list[bytes]:
    """``data`` cut into consecutive pieces of ``sizes`` bytes (chunks, or their codes)."""
    pieces, start = [], 0
    for size in sizes:
        pieces.append(data[start : start + size])
        start += size
    return pieces


def chunks(data: bytes, chunk_size: int = CHUNK_SIZE) -> list[bytes]:
    """``data`` in consecutive chunks of ``chunk_size`` bytes (the last may be shorter;
    0: one chunk), as they are coded."""
    return split_into(data, chunk_lengths(len(data), chunk_size))


def encode(
    predictor: Predictor,
    data: bytes,
    chunk_size: int = CHUNK_SIZE,
    workers: int = 1,
    advance: Advance | None = None,
    pool: Pool | None = None,
) -> list[CodedChunk]:
    """Code ``data`` in independent chunks of ``chunk_size`` bytes (0: one stream whose
    context slides over the predictor's window), in ``workers`` processes (or ``pool``'s
    workers)."""
    return encode_chunks(predictor, chunks(data, chunk_size), workers, advance, pool)


def encode_chunks(
    predictor: Predictor,
    chunks: Sequence[bytes],
    workers: int = 1,
    advance: Advance | None = None,
    pool: Pool | None = None,
) -> list[CodedChunk]:
    """Code each chunk on its own (see :func:`encode_chunk`), in ``workers`` processes
    (or ``pool``'s workers)."""
    if _here(workers, len(chunks), pool):
        return [encode_chunk(predictor, chunk, advance) for chunk in chunks]
    tasks = ((chunk,) for chunk in chunks)
    return list(_in_order(predictor, workers, _encode_task, tasks, [len(c) for c in chunks], advance, pool))


def decode(
    predictor: Predictor,
    codes: Sequence[bytes],
    lengths: Sequence[int],
    workers: int = 1,
    advance: Advance | None = None,
    pool: Pool | None = None,
) -> bytes:
    """Inverse of :func:`encode`: the chunks' codes and original lengths -> the data."""
    return b"".join(decode_chunks(predictor, codes, lengths, workers, advance, pool))


def decode_chunks(
    predictor: Predictor,
    codes: Sequence[bytes],
    lengths: Sequence[int],
    workers: int = 1,
    advance: Advance | None = None,
    pool: Pool | None = None,
    zeros_dropped: bool = False,
) -> Iterator[bytes]:
    """The decoded chunks in order, each as soon as it and those before it are done, so a
    caller can write them out while holding a few chunks at most (about 2 per worker), in
    ``workers`` processes (or ``pool``'s workers)."""
    if len(codes) != len(lengths):
        raise ValueError(f"{len(codes)} codes for {len(lengths)} chunks")
    if _here(workers, len(codes), pool):
        for code, length in zip(codes, lengths):
            yield decode_chunk(predictor, code, length, advance, zeros_dropped)
        return
    tasks = ((code, length, None, zeros_dropped) for code, length in zip(codes, lengths))
    yield from _in_order(predictor, workers, _decode_task, tasks, lengths, advance, pool)


def _here(workers: int, items: int, pool: Pool | None) -> bool:
    """Whether to code in this process: one worker or one item, and no cluster asked for
    (asked for, the cluster codes even one chunk: the caller wants this machine spared)."""
    return items == 0 or (pool is None and (workers <= 1 or items <= 1))


# what encode_chunks and decode hand to the workers, called as task(predictor, *arguments)
_encode_task, _decode_task = encode_chunk, decode_chunk


def _in_order(
    predictor: Predictor,
    workers: int,
    task: Callable[..., Any],
    arguments: Iterable[tuple],
    sizes: Sequence[int],
    advance: Advance | None,
    pool: Pool | None,
) -> Iterator[Any]:
    """``task(predictor, *arguments[i])`` for each item, run in ``pool``'s workers (default:
    processes here) and yielded in order, each as soon as those before it are done."""
    done: dict[int, Any] = {}
    following = 0  # the next result to hand out
    mapped = (pool or in_processes)(predictor, task, arguments, min(workers, len(sizes)))
    with contextlib.closing(mapped) as finished:
        for i, result in finished:  # closing: a Ctrl-C here, not in the generator, still ends the workers
            done[i] = result
            if advance:
                advance(sizes[i])
            while following in done:
                yield done.pop(following)
                following += 1

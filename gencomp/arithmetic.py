"""The arithmetic coder: a next-byte distribution narrows an interval, one byte at a time.

A distribution becomes integer frequencies (:func:`quantize`), and a binary arithmetic
coder with 64-bit registers (Witten, Neal & Cleary 1987, the scheme of the paper's
``arithmetic_coder.py``) narrows an interval by them. Our own rather than
``constriction``'s range coder, whose streams end in whole 32-bit words: 1.8 bytes a chunk
over the quantised length against 0.3 here (bench/coding_speed.py), 0.6% against 0.1% of
an LLM-coded 2 KB chunk.

Cost against the ideal Σ -log2 p: the quantised probability is never below
p·(1 - 2**-24), and the interval rounding loses under 2**-30, so the code exceeds the ideal
by under 1e-6 bits a byte plus the ending, at most 2 + 7 bits a chunk. It can also come
out *below* the ideal: the 1-count floor caps a byte's cost at 32 bits.
"""

from __future__ import annotations

import math

import numpy as np

from gencomp.predictor import ALPHABET

TOTAL_BITS = 32  # quantised frequencies sum to 2**32; every byte gets at least 1
TOTAL = 1 << TOTAL_BITS
STATE_BITS = 64  # coder registers; an interval is never narrower than 2**62
FULL = 1 << STATE_BITS
HALF = FULL >> 1
QUARTER = FULL >> 2


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

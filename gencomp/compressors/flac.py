"""FLAC as a predictor: FLAC's sample predictors and the Rice code of their residual.

FLAC codes a block of samples as a prediction (a fixed polynomial of order 0-4, or a
linear predictor (LPC) with quantised integer coefficients) plus the residual e, each
partition of it in a Rice code with parameter k: u = zigzag(e) costs (u >> k) + 1 + k
bits, and the encoder picks the predictor and k that cost least. As a next-sample model:
p(s) ∝ 2^-len(zigzag(s - prediction), k). The encoder's choices look at the block it
codes; a predictor may only look back, so here they are made on the last ``partition``
samples the context holds (each step, from scratch: deterministic and in integers):
- the LPC coefficients from the context's autocorrelation (Levinson-Durbin, quantised to
  ``PRECISION`` bits as FLAC does), and the fixed orders;
- the predictor whose residual over the window costs fewest bits (at its best k);
- k: not the best one alone but each k weighted by 2^-(bits the window costs with it) ×
  ``SOFTNESS`` (a tempered posterior: the window is short, so the best k is uncertain);
- an escape: FLAC codes a partition verbatim when the Rice code would cost more; here a
  uniform share of ESCAPE keeps every sample value possible.

Samples are the paper's 8-bit mapping (byte − 128, as FLAC's signed 8-bit PCM) or 16-bit
little-endian, where the low byte's distribution sums over the high byte and the high
byte's is conditioned on the low one. Samples count from the start of the context (which
the sampler and coder keep aligned: the window holds whole samples).
"""

from __future__ import annotations

import math

import numpy as np

from gencomp.errors import SpecError
from gencomp.predictor import ALPHABET, DEFAULT_CONTEXT_WINDOW, crop, normalize

LN2 = math.log(2.0)
FIXED = ((), (1,), (2, -1), (3, -3, 1), (4, -6, 4, -1))  # FLAC's fixed predictors, orders 0-4
PRECISION = 14  # bits of a quantised LPC coefficient (libFLAC: 12-15 by block size)
MAX_SHIFT = 15  # FLAC's largest coefficient shift
RICE_PARAMETERS = np.arange(15)  # FLAC's 4-bit Rice parameters (15 is the escape)
# Measured on the bundled speech, 8-bit, every byte of 6 chunks: softness 0.25-1.0 gave
# the same bits within 0.1%, and a partition of 128 samples 0.5-0.7% fewer than 64 or 256
# (the escape share was not tuned: 2^-10 costs 0.0014 bits a sample).
SOFTNESS = 0.5
ESCAPE = 2.0**-10
METHOD_VERSION = 1
REACH = 32
NEGLIGIBLE = 40.0  # natural log: Rice parameters weighted below e^-40 of the best are left out


def zigzag(residual: np.ndarray) -> np.ndarray:
    """FLAC's fold of signed residuals onto 0, 1, 2, …: 0, -1, 1, -2, 2, …"""
    return np.where(residual >= 0, 2 * residual, -2 * residual - 1)


def rice_bits(folded: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Bits of each folded value (rows) in the Rice code with each parameter (columns)."""
    return (folded[:, None] >> k[None, :]) + 1 + k[None, :]


def lpc(samples: np.ndarray, order: int) -> list[tuple[np.ndarray, int]]:
    """FLAC-style quantised LPC predictors of orders 1..``order`` from the samples'
    autocorrelation: (integer coefficients, most recent sample first; right shift).
    The autocorrelation is exact (integers) and Levinson-Durbin runs on Python floats, so
    every machine computes the same coefficients."""
    x = samples.astype(np.int64)
    if order < 1 or len(x) <= order:
        return []
    r = [float(np.dot(x[lag:], x[: len(x) - lag])) for lag in range(order + 1)]
    if r[0] == 0.0:
        return []
    predictors, a, error = [], [0.0] * (order + 1), r[0]
    for m in range(1, order + 1):
        reflection = (r[m] - sum(a[j] * r[m - j] for j in range(1, m))) / error
        a = [0.0] + [a[j] - reflection * a[m - j] for j in range(1, m)] + [reflection] + [0.0] * (order - m)
        error *= 1.0 - reflection * reflection
        predictors.append(_quantise(a[1 : m + 1]))
        if error <= 0.0:
            break
    return predictors


def _quantise(coefficients: list[float]) -> tuple[np.ndarray, int]:
    """Coefficients to PRECISION-bit integers and a shift, as libFLAC quantises them."""
    largest = max(abs(c) for c in coefficients)
    shift = MAX_SHIFT if largest == 0.0 else PRECISION - 1 - (math.frexp(largest)[1])
    shift = min(MAX_SHIFT, max(0, shift))
    limit = (1 << (PRECISION - 1)) - 1
    return np.array([min(limit, max(-limit - 1, round(c * (1 << shift)))) for c in coefficients], dtype=np.int64), shift


def predict(samples: np.ndarray, coefficients: np.ndarray, shift: int, start: int) -> np.ndarray:
    """The predictions of samples[start:], and of the next sample, in integers."""
    order = len(coefficients)
    if order == 0:
        return np.zeros(len(samples) - start + 1, dtype=np.int64)
    x = np.concatenate([samples[start - order :], [0]]).astype(np.int64)
    full = np.convolve(x, coefficients)  # full[i] = Σ_j c_j · x[i - j]
    return full[order - 1 : len(x) - 1] >> shift


class FlacPredictor:
    """FLAC's fixed and LPC predictors with Rice-coded residuals, as a next-byte model."""

    def __init__(
        self,
        bits: int = 8,
        order: int = 8,
        partition: int = 128,
        context_window: int = DEFAULT_CONTEXT_WINDOW,
    ) -> None:
        if bits not in (8, 16):
            raise SpecError(f"flac bits must be 8 (the paper's mapping) or 16 (little-endian), got {bits}")
        if not 0 <= order <= 32:
            raise SpecError(f"flac order (the largest LPC order; 0: fixed predictors only) must be 0..32, got {order}")
        if partition < 8:
            raise SpecError(f"flac partition must be at least 8 samples, got {partition}")
        width = bits // 8
        if context_window < width:
            raise SpecError(f"flac context_window must hold a sample ({width} bytes), got {context_window}")
        self.bits, self.order, self.partition = bits, order, partition
        self.context_window = context_window - context_window % width  # whole samples: alignment survives cropping
        self._table: tuple[bytes, np.ndarray] | None = None

    @property
    def spec(self) -> str:
        return f"flac:bits={self.bits},order={self.order},partition={self.partition},context_window={self.context_window}"

    @property
    def fingerprint(self) -> str:
        return f"flac method {METHOD_VERSION} numpy {np.__version__.split('.')[0]}"

    def __repr__(self) -> str:
        return f"<FlacPredictor {self.spec}>"

    def logprobs(self, context: bytes) -> np.ndarray:
        context = crop(context, self.context_window)
        if self.bits == 8:
            samples = np.frombuffer(context, dtype=np.uint8).astype(np.int64) - 128
            return normalize(np.log(self.sample_probs(samples)))  # value s is byte s + 128: index s + 128
        whole = len(context) // 2 * 2
        table = self._sample_table(context[:whole])
        if whole == len(context):  # the low byte: sum over the high one
            return normalize(np.log(table.sum(axis=0)))
        return normalize(np.log(table[:, context[-1]]))  # the high byte, given the low one

    def _sample_table(self, context: bytes) -> np.ndarray:
        """16-bit: the next sample's probabilities as [high byte, low byte], kept for the
        high byte's call that follows the low byte's (same samples)."""
        if self._table is None or self._table[0] != context:
            samples = np.frombuffer(context, dtype="<i2").astype(np.int64)
            table = np.roll(self.sample_probs(samples), 32768).reshape(ALPHABET, ALPHABET)  # value s at uint16 s
            self._table = (context, table)
        return self._table[1]

    def sample_probs(self, samples: np.ndarray) -> np.ndarray:
        """Probabilities of the next sample's 2^bits values, from the most negative; each
        at least the escape's share, so none is zero."""
        half = 1 << (self.bits - 1)
        prediction, weights = self._choose(samples)
        used = weights > weights.max() - NEGLIGIBLE  # the other parameters change nothing
        # beyond REACH << k of the prediction the Rice code costs over 2 × REACH bits: the
        # escape's share is far larger there, so only the values nearer are scored
        reach = REACH << int(RICE_PARAMETERS[used].max())
        centre = min(max(prediction, -half), half - 1)  # an LPC may predict beyond the range
        low, high = max(-half, centre - reach), min(half - 1, centre + reach)
        folded = zigzag(np.arange(low, high + 1, dtype=np.int64) - prediction)
        lengths = rice_bits(folded, RICE_PARAMETERS[used]).astype(np.float64)
        rice = np.zeros(2 * half)
        # no BLAS: the same sums everywhere; values whose 2^-bits underflow are floored by the escape
        rice[low + half : high + half + 1] = (np.exp2(-lengths) * np.exp(weights[used] - weights.max())).sum(axis=1)
        total = rice.sum()
        if total == 0.0:  # a prediction so far off that every Rice length underflows: the escape alone
            return np.full(2 * half, 1.0 / (2 * half))
        return (1.0 - ESCAPE) * rice / total + ESCAPE / (2 * half)

    def _choose(self, samples: np.ndarray) -> tuple[int, np.ndarray]:
        """(the next sample's prediction, log-weights of the Rice parameters): the predictor
        whose residual over the last ``partition`` samples costs fewest bits."""
        n = len(samples)
        best = (0, np.zeros(len(RICE_PARAMETERS)) - math.log(len(RICE_PARAMETERS)), math.inf)
        if n == 0:
            return best[0], best[1]
        start = max(0, n - self.partition)
        history = samples[max(0, n - 8 * self.partition) :]  # the LPC's autocorrelation span
        candidates = [(np.array(c, dtype=np.int64), 0) for c in FIXED] + lpc(history, self.order)
        for coefficients, shift in candidates:
            first = max(start, len(coefficients))
            if first >= n:
                continue
            predicted = predict(samples, coefficients, shift, first)
            cost = rice_bits(zigzag(samples[first:] - predicted[:-1]), RICE_PARAMETERS).sum(axis=0)
            per_sample = cost.min() / (n - first)
            if per_sample < best[2]:
                scores = -(cost - cost.min()) * SOFTNESS * LN2
                best = (int(predicted[-1]), scores - np.logaddexp.reduce(scores), per_sample)
        return best[0], best[1]

"""Sampling speed of the compressor predictors against the naive method, side by side.

For each codec and context size, a continuation of real prose is sampled with a sliding
window of that size (so every step sees a full window); each step is computed by both
methods back to back, so the machine's noise hits both alike and the ratio is what to
read, and their lengths are compared on the way.

    .venv/bin/python bench/compressor_speed.py [--seconds 2] [--sizes 512,2048,8192,32768]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from rich.console import Console
from rich.table import Table

from gencomp import datasets
from gencomp.compressors.codecs import COMPRESSOR_PREDICTORS
from gencomp.compressors.predictor import CompressorPredictor, naive_lengths
from gencomp.sampling import draw


def step(lengths: np.ndarray, rng: np.random.Generator) -> int:
    bits = 8.0 * (lengths - lengths.min())
    probs = np.exp2(-bits)
    return draw(probs / probs.sum(), rng)


def race(predictor: CompressorPredictor, context: bytes, budget: float) -> tuple[float, float, bool]:
    """Sample with a sliding window for about ``budget`` seconds, every step computed by
    both methods back to back (so noise hits both alike) and drawn from the naive lengths.
    Returns (naive bytes/s, fast bytes/s, whether every step's lengths were equal)."""
    rng = np.random.default_rng(0)
    window, size = bytearray(context), len(context)
    naive_time = fast_time = 0.0
    steps, equal = 0, True
    while steps == 0 or naive_time + fast_time < budget:
        current = bytes(window[-size:])
        t0 = time.perf_counter()
        naive = naive_lengths(predictor.compress, current)
        t1 = time.perf_counter()
        fast = predictor.candidate_lengths(current)
        t2 = time.perf_counter()
        naive_time, fast_time = naive_time + t1 - t0, fast_time + t2 - t1
        equal &= bool(np.array_equal(naive, fast))
        window.append(step(naive, rng))
        steps += 1
    return steps / naive_time, steps / fast_time, equal


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per cell, both methods together")
    parser.add_argument("--sizes", default="512,2048,8192,32768")
    parser.add_argument("--codecs", default="gzip,zstd,lzma,bz2")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    corpus = datasets.text_corpus().data
    table = Table(title="Compressor predictors: sampling speed, fast vs naive (bytes/s)")
    for column in ("codec", "context", "naive B/s", "gencomp B/s", "speed-up", "lengths equal"):
        table.add_column(column, justify="right")
    for name in args.codecs.split(","):
        for size in sizes:
            predictor: CompressorPredictor = COMPRESSOR_PREDICTORS[name](context_window=size)
            context = corpus[100_000 : 100_000 + size]
            naive_rate, fast_rate, equal = race(predictor, context, args.seconds)
            table.add_row(
                name, f"{size:,} B", f"{naive_rate:,.1f}", f"{fast_rate:,.1f}",
                f"{fast_rate / naive_rate:.1f}×", "yes" if equal else "NO",
            )
    Console().print(table)


if __name__ == "__main__":
    main()

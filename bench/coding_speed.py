"""Arithmetic coding: speed of compress/decompress per predictor, and code size against the
ideal Σ -log2 p; then the coder alone, and its per-chunk ending against constriction's.

    .venv/bin/python bench/coding_speed.py                       # gzip, zstd, paper variants
    .venv/bin/python bench/coding_speed.py -m llm --bytes 512    # any predictor specs

Not a test: it prints numbers measured side by side.
"""

from __future__ import annotations

import argparse
import math
import time

import constriction
import numpy as np

from gencomp import arithmetic, coding, container, datasets
from gencomp.spec import load_predictor


def predictor_rows(specs: list[str], data: bytes, chunk_size: int) -> None:
    print(f"{len(data):,} bytes of Wikipedia text, chunks of {chunk_size or 'one stream'}")
    print(f"{'predictor':<36} {'compress B/s':>12} {'decompress B/s':>14} {'code B':>8} {'ideal B':>9} {'overhead':>9}")
    for spec in specs:
        predictor = load_predictor(spec)
        start = time.perf_counter()
        packed = container.compress(predictor, data, chunk_size)
        encode_s = time.perf_counter() - start
        start = time.perf_counter()
        assert container.decompress(packed.data) == data
        decode_s = time.perf_counter() - start
        ideal = packed.ideal_bits / 8
        print(
            f"{spec:<36} {len(data) / encode_s:>12,.0f} {len(data) / decode_s:>14,.0f} "
            f"{packed.payload_size:>8,} {ideal:>9,.1f} {100 * (packed.payload_size / ideal - 1):>+8.3f}%"
        )


def distributions(data: bytes) -> list[tuple[np.ndarray, int]]:
    """The gzip predictor's real distributions over ``data`` (one chunk), and its bytes."""
    gzip = load_predictor("gzip:paper")
    return [(gzip.logprobs(data[:i]), data[i]) for i in range(len(data))]


def coder_alone(pairs: list[tuple[np.ndarray, int]], repeats: int) -> None:
    """Quantise + code the same distributions ``repeats`` times as one stream."""
    start = time.perf_counter()
    tables = [(arithmetic.quantize(lp), byte) for lp, byte in pairs]
    quantise_s = (time.perf_counter() - start) / len(pairs)
    encoder = arithmetic.Encoder()
    start = time.perf_counter()
    for _ in range(repeats):
        for table, byte in tables:
            encoder.encode(table, byte)
    code = encoder.finish()
    n = repeats * len(tables)
    encode_s = (time.perf_counter() - start) / n
    decoder = arithmetic.Decoder(code)
    start = time.perf_counter()
    assert all(decoder.decode(t) == b for _ in range(repeats) for t, b in tables)
    decode_s = (time.perf_counter() - start) / n
    ideal = repeats * sum(-lp[b] for lp, b in pairs) / math.log(2) / 8
    print(
        f"\ncoder alone, {n:,} bytes as one stream: quantise {quantise_s * 1e6:.1f} µs, encode "
        f"{encode_s * 1e6:.1f} µs, decode {decode_s * 1e6:.1f} µs a byte; code {len(code):,} B, "
        f"ideal {ideal:,.1f} B ({100 * (len(code) / ideal - 1):+.4f}%)"
    )


def endings(pairs: list[tuple[np.ndarray, int]], trials: int, length: int) -> None:
    """Bytes over the quantised code length per independently coded chunk: this coder
    against constriction's range coder fed the same integers (at its 24-bit precision)."""
    rng = np.random.default_rng(0)
    ours, theirs = [], []
    model = constriction.stream.model.Categorical(perfect=False)
    for _ in range(trials):
        start = int(rng.integers(0, len(pairs) - length))
        window = pairs[start : start + length]
        tables = [arithmetic.quantize(lp) for lp, _ in window]
        symbols = np.array([b for _, b in window], dtype=np.int32)
        encoder = arithmetic.Encoder()
        for table, byte in zip(tables, symbols):
            encoder.encode(table, int(byte))
        quantised = sum(-math.log2((t[b + 1] - t[b]) / arithmetic.TOTAL) for t, b in zip(tables, symbols)) / 8
        ours.append(len(encoder.finish()) - quantised)
        # the same rule at constriction's 24 bits: frequency - 1 as float64 reproduces it exactly
        freqs = np.array([np.diff(arithmetic.quantize(lp, total_bits=24)) for lp, _ in window])
        range_encoder = constriction.stream.queue.RangeEncoder()
        range_encoder.encode(symbols, model, (freqs - 1).astype(np.float64))
        quantised24 = sum(-math.log2(f[b] / 2**24) for f, b in zip(freqs, symbols)) / 8
        theirs.append(range_encoder.get_compressed().nbytes - quantised24)
    print(
        f"ending per chunk ({trials} chunks of {length} bytes), bytes over the quantised code: "
        f"this coder mean {np.mean(ours):.2f} max {np.max(ours):.2f}; "
        f"constriction mean {np.mean(theirs):.2f} max {np.max(theirs):.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-m", "--model", action="append", help="predictor spec (repeatable)")
    parser.add_argument("--bytes", type=int, default=2048, help="bytes of text to code per predictor")
    parser.add_argument("--chunk-size", type=int, default=coding.CHUNK_SIZE, help="0: one stream")
    args = parser.parse_args()
    text = datasets.text_corpus().data
    predictor_rows(args.model or ["gzip:paper", "zstd:paper", "gzip", "zstd"], text[: args.bytes], args.chunk_size)
    pairs = distributions(text[100_000 : 100_000 + 2048])
    coder_alone(pairs, repeats=32)
    endings(pairs, trials=300, length=300)


if __name__ == "__main__":
    main()

"""How close are the LLM predictor's byte distributions to the model's own token ones?

For 2048-byte chunks of real English text (Wikipedia lead sections, spread over the
bundled corpus), prints the byte-level cross-entropy Σ −log2 p(byte | bytes before, in
its chunk) over the chunk's bytes, the model's token-level cross-entropy of the same chunk
(its tokenisation, one forward pass), both in bits/byte, and their ratio (the issue asks
for it within 3%). Also model steps per byte and bytes/s of the byte walk.

    .venv/bin/python bench/llm_xent.py                  # 2 chunks, about 10 min on 2 cores
    .venv/bin/python bench/llm_xent.py --chunks 1 --size 1024
"""

from __future__ import annotations

import argparse
import math
import time

from gencomp import datasets
from gencomp.llm.predictor import LLMPredictor
from gencomp.llm.scoring import token_level_bits


def byte_level_bits(predictor: LLMPredictor, chunk: bytes) -> float:
    """Σ −log2 p(chunk[t] | chunk[:t]) in bits, walking the chunk left to right."""
    return -sum(predictor.logprobs(chunk[:t])[chunk[t]] for t in range(len(chunk))) / math.log(2)


def spread_chunks(count: int, size: int) -> list[bytes]:
    """``count`` full chunks evenly spread over the text corpus."""
    whole = [c for c in datasets.chunks(datasets.text_corpus().data, size) if len(c) == size]
    step = len(whole) // count
    return [whole[i * step + step // 2] for i in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=2)
    parser.add_argument("--size", type=int, default=datasets.CHUNK_SIZE, help="bytes per chunk")
    parser.add_argument("--model", default="", help="hub id or folder; empty: the bundled SmolLM2")
    args = parser.parse_args()
    predictor = LLMPredictor(args.model, context_window=args.size)
    print(f"{predictor.spec}: byte-level vs token-level cross-entropy, {args.size}-byte chunks")
    print(f"{'chunk':>5} {'byte b/B':>9} {'token b/B':>9} {'ratio':>6} {'steps/B':>8} {'bytes/s':>8}")
    total_byte = total_token = 0.0
    for i, chunk in enumerate(spread_chunks(args.chunks, args.size)):
        steps = predictor.model_steps
        start = time.perf_counter()
        byte_bits = byte_level_bits(predictor, chunk)
        seconds = time.perf_counter() - start
        token_bits = token_level_bits(predictor, chunk)
        total_byte, total_token = total_byte + byte_bits, total_token + token_bits
        n = len(chunk)
        print(
            f"{i:5} {byte_bits / n:9.4f} {token_bits / n:9.4f} {byte_bits / token_bits:6.3f} "
            f"{(predictor.model_steps - steps) / n:8.3f} {n / seconds:8.1f}",
            flush=True,
        )
    n = args.chunks * args.size
    print(f"{'all':>5} {total_byte / n:9.4f} {total_token / n:9.4f} {total_byte / total_token:6.3f}")


if __name__ == "__main__":
    main()

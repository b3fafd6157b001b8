"""What a prompt costs a predictor that learns online (an adaptive compressor, a mixture):
walked over its last `gencomp.mixture.WARMUP` bytes (or as many as `--warmup` says), or
from its start as before 0.4.

For each predictor, side by side: the seconds of the first call on a prompt as long as the
sampler's default (1,925 bytes; held-out Wikipedia text from the corpus's end), then the
bits/byte of the bytes that follow it (what a continuation is drawn from), each way. The
bound is set by changing the module constant for the run.

    .venv/bin/python bench/warmup.py
    .venv/bin/python bench/warmup.py --model gzip:fast --model 'mix:(gzip:fast)+ngram:order=2' --next 256
    .venv/bin/python bench/warmup.py --model gzip --warmup 64 --warmup 128 --warmup 256

Not a test: it prints numbers measured in one run.
"""

from __future__ import annotations

import argparse
import math
import time

from gencomp import datasets, mixture
from gencomp.spec import load_predictor

PROMPT = 1925  # bytes: as long as the sampler's default prompt


def measure(spec: str, prompt: bytes, after: bytes) -> tuple[float, float]:
    """(seconds of the first call on ``prompt``, bits/byte on ``after`` walked from it)."""
    predictor = load_predictor(spec)
    start = time.perf_counter()
    predictor.logprobs(prompt)
    seconds = time.perf_counter() - start
    nats = -sum(float(predictor.logprobs(prompt + after[:i])[after[i]]) for i in range(len(after)))
    return seconds, nats / len(after) / math.log(2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", action="append", help="predictor spec (repeatable; default: gzip, zstd)")
    parser.add_argument("--next", type=int, default=128, help="bytes scored after the prompt")
    parser.add_argument("--warmup", type=int, action="append", help="bytes walked (repeatable; default: WARMUP)")
    args = parser.parse_args()
    held_out = datasets.text_corpus().data[-8192:]
    prompt, after = held_out[:PROMPT], held_out[PROMPT : PROMPT + args.next]
    default = mixture.WARMUP
    bounds = [*(args.warmup or [default]), 10**9]
    names = [f"{b} B" for b in bounds[:-1]] + ["whole"]
    print(f"prompt {len(prompt):,} bytes, then {len(after)} bytes scored; seconds of the first call, then bits/byte after")
    print(f"{'model':<24} " + " ".join(f"{n:>16}" for n in names))
    for spec in args.model or ["gzip", "zstd"]:
        cells = []
        for bound in bounds:
            mixture.WARMUP = bound
            seconds, bits = measure(spec, prompt, after)
            cells.append(f"{seconds:6.1f} s {bits:.3f}")
        mixture.WARMUP = default
        print(f"{spec:<24} " + " ".join(f"{c:>16}" for c in cells), flush=True)

if __name__ == "__main__":
    main()

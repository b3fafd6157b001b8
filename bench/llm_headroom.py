"""How much can anything mixed with the language model gain on text? An upper bound first.

The bundled LLM's next-byte distributions are recorded once over held-out 2 KB text
chunks (the walk `compress` does), then replayed: (a) each distribution raised to a fixed
exponent and renormalised, the best exponent chosen with hindsight (what an online
sharpening could at most learn), and (b) mixtures of the replayed LLM with other
predictors through `gencomp.mixture.Mixture`, as `mix:llm+…` would code them.
Issue 15 asks a mixture with the LLM for ≤ 0.97× the LLM's bits on text.

    .venv/bin/python bench/llm_headroom.py                       # 2 chunks, ~2 min of LLM
    .venv/bin/python bench/llm_headroom.py --chunks 1 --mix ngram:order=2 --mix ppm:order=5

Not a test: it prints numbers measured in one run.
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from compressor_xent import held_out_chunks
from gencomp.mixture import Mixture
from gencomp.predictor import normalize
from gencomp.spec import load_predictor

EXPONENTS = (0.8, 0.9, 1.0, 1.1, 1.2)
MIXES = ("ngram:order=2", "ppm:order=5", "gzip:fast")


class Replay:
    """Recorded distributions of one chunk, given back by the context's length."""

    def __init__(self, logprobs: np.ndarray, spec: str = "llm (replayed)") -> None:
        self.logprobs_by_length, self.spec, self.context_window, self.fingerprint = logprobs, spec, 2048, ""

    def logprobs(self, context: bytes) -> np.ndarray:
        return self.logprobs_by_length[len(context)]


def bits_per_byte(chunks: list[bytes], logprobs: list[np.ndarray]) -> float:
    nats = sum(-float(d[np.arange(len(c)), np.frombuffer(c, np.uint8)].sum()) for c, d in zip(chunks, logprobs))
    return nats / sum(len(c) for c in chunks) / math.log(2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=2)
    parser.add_argument("--mix", action="append", help="a predictor mixed with the LLM (repeatable)")
    args = parser.parse_args()
    chunks = held_out_chunks("text", args.chunks)
    llm = load_predictor("llm")
    recorded = [np.stack([llm.logprobs(c[:i]) for i in range(len(c))]) for c in chunks]
    alone = bits_per_byte(chunks, recorded)
    print(f"{len(chunks)} held-out text chunks; the LLM alone: {alone:.4f} bits/byte")
    for exponent in EXPONENTS:
        sharpened = bits_per_byte(chunks, [normalize(exponent * d) for d in recorded])
        print(f"  LLM^{exponent}: {sharpened:.4f} = {sharpened / alone:.4f}×")
    for spec in args.mix or MIXES:
        mixed = []
        for chunk, logprobs in zip(chunks, recorded):
            mixture = Mixture([Replay(logprobs), load_predictor(spec)])
            mixed.append(np.stack([mixture.logprobs(chunk[:i]) for i in range(len(chunk))]))
        bits = bits_per_byte(chunks, mixed)
        print(f"  mix:llm+({spec}): {bits:.4f} = {bits / alone:.4f}×", flush=True)


if __name__ == "__main__":
    main()

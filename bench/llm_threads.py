"""What a fixed thread count costs the LLM's coding path: `compress`'s step-by-step encode
of the same prose with `llm:threads=1` and `llm:threads=N`, alternating, on one loaded
model (medians printed). Coding runs on the spec's thread count so that a file decodes
the same on any machine; this shows what choosing 1 gives up where cores are idle.

    .venv/bin/python bench/llm_threads.py                 # 160 bytes, 1 vs 2 threads, 2 rounds
    .venv/bin/python bench/llm_threads.py --bytes 300 --threads 4 --rounds 3

Run it on an otherwise idle machine: torch's threads spin while they wait, so any other
load makes more threads slower, not faster. Not a test: it prints numbers side by side.
"""

from __future__ import annotations

import argparse
import statistics
import time

from gencomp import coding, datasets
from gencomp.llm.predictor import LLMPredictor
from gencomp.spec import load_predictor


def encode_seconds(loaded_from: LLMPredictor, threads: int, data: bytes) -> float:
    predictor = LLMPredictor(loaded=loaded_from.loaded, threads=threads)
    start = time.perf_counter()
    coding.encode(predictor, data)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bytes", type=int, default=160)
    parser.add_argument("--threads", type=int, default=2, help="the count compared with 1")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    corpus = datasets.text_corpus().data
    data = corpus[20_000 : 20_000 + args.bytes]
    model = load_predictor("llm:device=cpu")
    times: dict[int, list[float]] = {1: [], args.threads: []}
    for _ in range(args.rounds):
        for threads in times:
            times[threads].append(encode_seconds(model, threads, data))
    one, many = (statistics.median(times[t]) for t in times)
    print(f"{args.bytes} B of prose, {args.rounds} rounds, medians")
    print(f"threads=1: {args.bytes / one:.1f} B/s   threads={args.threads}: {args.bytes / many:.1f} B/s   ratio {one / many:.2f}×")


if __name__ == "__main__":
    main()

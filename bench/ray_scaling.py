"""Chunk coding on a local Ray against the local process pool: throughput with 1 and 2
workers (the same chunks, the same codes), and the overhead a chunk pays to travel (empty
chunks, so the predictor costs nothing), all in one run on a Ray started here.

    .venv/bin/python bench/ray_scaling.py                     # zstd:fast, 8 chunks of 512 B
    .venv/bin/python bench/ray_scaling.py -m gzip:fast --chunks 4 --chunk-size 2048

Not a test: it prints numbers measured side by side. Every call starts its workers (the
local pool always does; Ray's actors are ended before each call): "start" is the time to
the first of the empty chunks; the overhead per chunk is the time from the first empty
chunk's result to the last, per chunk (the steady state of a long run); the chunks' time
includes the start, as a user's run does.
"""

from __future__ import annotations

import argparse
import logging
import time
from typing import Any

import ray

from gencomp import coding, datasets, ray_pool, workers
from gencomp.predictor import Predictor
from gencomp.spec import load_predictor


def cold(pool: workers.Pool, predictor: Predictor, chunks: list[bytes], workers: int) -> tuple[list[float], list[Any]]:
    """When each chunk's result arrived, in seconds from the call (its workers started for
    it: Ray's actors are ended first, as the local pool's processes always are), and the
    codes in order."""
    if isinstance(pool, ray_pool.RayPool):
        pool.close()
    start, times, results = time.perf_counter(), [], {}
    for i, result in pool(predictor, coding.encode_chunk, [(c,) for c in chunks], workers):
        times.append(time.perf_counter() - start)
        results[i] = result
    return times, [results[i] for i in range(len(chunks))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-m", "--model", default="zstd:fast")
    parser.add_argument("--chunks", type=int, default=8)
    parser.add_argument("--chunk-size", type=int, default=512)
    parser.add_argument("--empty", type=int, default=200, help="empty chunks for the per-chunk overhead")
    args = parser.parse_args()
    predictor = load_predictor(args.model)
    text = datasets.text_corpus().data
    chunks = [text[i * 7919 : i * 7919 + args.chunk_size] for i in range(args.chunks)]
    total = sum(map(len, chunks))
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    cluster = ray_pool.RayPool()
    print(f"{predictor.spec}\n{args.chunks} chunks of {args.chunk_size} B of Wikipedia text; {args.empty} empty chunks for the overhead")
    print(f"{'pool':<22} {'workers':>7} {'start s':>8} {'chunks s':>9} {'B/s':>6} {'vs 1':>6} {'ms/chunk':>9}")
    start = time.perf_counter()
    reference = [coding.encode_chunk(predictor, c) for c in chunks]
    seconds = time.perf_counter() - start
    print(f"{'this process':<22} {1:>7} {0:>8.2f} {seconds:>9.2f} {total / seconds:>6.0f} {'':>6} {'':>9}")
    try:
        for name, pool in (("processes (local)", workers.in_processes), ("Ray actors (local Ray)", cluster)):
            single = None
            for workers in (1, 2):
                empty, _ = cold(pool, predictor, [b""] * args.empty, workers)
                times, codes = cold(pool, predictor, chunks, workers)
                assert codes == reference, f"{name} gave other codes"
                single = single or times[-1]
                overhead = 1000 * (empty[-1] - empty[0]) / (len(empty) - 1)
                print(f"{name:<22} {workers:>7} {empty[0]:>8.2f} {times[-1]:>9.2f} {total / times[-1]:>6.0f} "
                      f"{single / times[-1]:>5.2f}× {overhead:>9.2f}")
    finally:
        cluster.close()
        ray.shutdown()


if __name__ == "__main__":
    main()

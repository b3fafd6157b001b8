"""What one pool for all of a predictor's rows saves `evaluate`, against a pool per row.

Starts a pool of the predictor's workers here and times it (spawn, imports, the model,
its first tiny chunk), then list-schedules the chunk times of a `--results` file on
``--workers`` workers both ways, in the order evaluate submits them: all rows through one
pool started once, and each row through its own pool, waiting for its slowest chunk (how
gencomp 0.5 ran). The run in the results file itself gives the one-pool wall time to
check the schedule against.

    .venv/bin/gencomp evaluate --results run.jsonl
    .venv/bin/python bench/evaluate_pools.py run.jsonl --spec llm:dtype=bfloat16
"""

from __future__ import annotations

import argparse
import heapq
import json
import time
from collections import defaultdict

from gencomp.evaluate import _timed_chunk
from gencomp.spec import load_predictor
from gencomp.workers import in_processes


def pool_start(spec: str, workers: int) -> float:
    """Seconds from asking for a pool to every worker's first tiny chunk done."""
    predictor = load_predictor(spec)
    start = time.perf_counter()
    list(in_processes(predictor, _timed_chunk, [(b"warm",)] * workers, workers))
    return time.perf_counter() - start


def makespan(seconds: list[float], workers: int) -> float:
    """Wall time of chunks handed, in order, to whichever worker frees first."""
    free = [0.0] * workers
    for s in seconds:
        heapq.heappush(free, heapq.heappop(free) + s)
    return max(free)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", help="a file written by evaluate --results")
    parser.add_argument("--spec", required=True, help="the predictor whose rows to schedule, as given to evaluate -m")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    spec = load_predictor(args.spec).spec  # the full spec, as the results file has it
    rows: dict[tuple[str, str], list[tuple[int, float]]] = defaultdict(list)
    with open(args.results) as file:
        for line in list(file)[1:]:  # after the settings header
            chunk = json.loads(line)
            if chunk["spec"] == spec:
                rows[chunk["modality"], chunk["mapping"]].append((chunk["chunk"], chunk["seconds"]))
    start = pool_start(args.spec, args.workers)
    ordered = [[s for _, s in sorted(chunks)] for chunks in rows.values()]
    one = start + makespan([s for row in ordered for s in row], args.workers)
    per_row = sum(start + makespan(row, args.workers) for row in ordered)
    work = sum(map(sum, ordered))
    print(f"{len(ordered)} rows, {sum(map(len, ordered))} chunks, {work:.0f} s of chunk time; a pool starts in {start:.1f} s")
    print(f"one pool: {one:.0f} s; a pool per row: {per_row:.0f} s ({per_row / one:.2f}×)")


if __name__ == "__main__":
    main()

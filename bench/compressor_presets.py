"""Compressor predictors against an earlier gencomp, side by side in one process.

Speed targets such as "3× today's default" compare two versions of the code, which the
other benches (one version, several settings) cannot. Unpack the earlier version's
``gencomp`` package into a folder and name it with --baseline:

    mkdir -p /tmp/baseline && git archive 662783b gencomp | tar -x -C /tmp/baseline
    .venv/bin/python bench/compressor_presets.py --baseline /tmp/baseline \\
        --pair gzip=gzip --pair gzip=gzip:fast --pair zstd=zstd --pair zstd=zstd:fast

For each pair OLD=NEW (specs for the baseline and for this tree) and each modality, both
predictors are called in turn on the same contexts of held-out chunks (those of
bench/compressor_xent.py): every --stride-th byte; with --walk 4 runs of 32 consecutive
bytes a chunk, where what one call scored is reused by the next; with --whole every byte
from the chunk's start, the coder's walk (what `adapt` learns from needs it). Prints
the speed ratio NEW/OLD, the cross-entropy of each (bits/byte of the bytes predicted) and,
for equal specs, whether the distributions were bit-identical.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np

from baseline import earlier_gencomp

WALK_STARTS, WALK_LENGTH = (100, 700, 1300, 1900), 32


def positions(chunk: bytes, stride: int, walk: bool, whole: bool) -> list[int]:
    if whole:
        return list(range(len(chunk)))
    if walk:
        return [t for start in WALK_STARTS for t in range(start, min(start + WALK_LENGTH, len(chunk)))]
    return list(range(0, len(chunk), stride))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="folder holding the earlier gencomp package")
    parser.add_argument("--pair", action="append", required=True, help="OLD=NEW specs, e.g. gzip=gzip:fast")
    parser.add_argument("--modality", action="append", choices=("text", "image", "audio"))
    parser.add_argument("--chunks", type=int, default=2, help="held-out chunks per modality")
    parser.add_argument("--stride", type=int, default=16, help="predict every stride-th byte")
    parser.add_argument("--walk", action="store_true", help="runs of consecutive bytes instead of a stride")
    parser.add_argument("--whole", action="store_true", help="every byte from each chunk's start (the coder's walk)")
    args = parser.parse_args()
    pairs = [pair.split("=", 1) for pair in args.pair]
    olds = earlier_gencomp(args.baseline, [old for old, _ in pairs])[0]

    import gencomp
    from compressor_xent import held_out_chunks

    where = "whole chunks" if args.whole else "walks of 32 bytes" if args.walk else f"every {args.stride}th byte"
    for modality in args.modality or ["text", "image", "audio"]:
        data = held_out_chunks(modality, args.chunks)
        for (old_spec, new_spec), old in zip(pairs, olds):
            new = gencomp.load_predictor(new_spec)
            seconds, bits, identical, calls = [0.0, 0.0], [0.0, 0.0], True, 0
            for chunk in data:
                for t in positions(chunk, args.stride, args.walk, args.whole):
                    results = [np.empty(0), np.empty(0)]
                    for i in (calls % 2, 1 - calls % 2):  # who goes first alternates
                        start = time.perf_counter()
                        results[i] = (old, new)[i].logprobs(chunk[:t])
                        seconds[i] += time.perf_counter() - start
                        bits[i] -= results[i][chunk[t]] / math.log(2)
                    identical &= bool(np.array_equal(*results))
                    calls += 1
            same = f", identical: {identical}" if old_spec == new_spec else ""
            print(
                f"{modality:6} {old_spec} -> {new_spec}: {seconds[0] / seconds[1]:5.2f}× the bytes/s, "
                f"{bits[0] / calls:.4f} -> {bits[1] / calls:.4f} bits/byte ({bits[1] / bits[0]:.3f}×), "
                f"{calls} positions ({where}){same}",
                flush=True,
            )


if __name__ == "__main__":
    main()

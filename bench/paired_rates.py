"""Does a predictor beat a codec on the same chunks? A paired comparison from an
evaluate results file.

The evaluate table gives each row its own 95% interval over chunks; two rows measured on
the same chunks are better compared chunk by chunk. For each row of a ``gencomp evaluate
--results FILE`` run on the bundled data (the chunks it names are re-read here), this
prints, per modality, the predictor's coded size against a classical codec's chunked size
on each chunk (the codec's fixed header counted once, as in the table): the mean
difference in points of rate with a paired Student t interval, and on how many chunks the
predictor is smaller.

    gencomp evaluate -m 'mix:png+flac+(gzip:fast)+ngram:order=1+ngram:order=3' --results r.jsonl
    .venv/bin/python bench/paired_rates.py r.jsonl --codec png --codec flac
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy.stats import t

from gencomp.eval_data import bundled_data
from gencomp.evaluate import CONFIDENCE, classical_sizes, header_bytes
from gencomp.results_log import read_results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="a results file of `gencomp evaluate` on the bundled data")
    parser.add_argument("--codec", action="append", default=None, help="classical codec to compare with (repeatable; default png, flac)")
    args = parser.parse_args()
    run = read_results(args.results)
    seed = run.settings["selection"]["seed"]
    data = {d.name: d for d in bundled_data(seed=seed)}
    coded: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
    for result in run.results:
        if result.mapping == "8-bit":
            coded[(result.row, result.modality)][result.chunk] = result.compressed_bytes
    for codec in args.codec or ["png", "flac"]:
        for (row, modality), sizes in sorted(coded.items(), key=lambda item: item[0][1]):
            numbers = sorted(sizes)
            chunks = [data[modality].chunks.read(n) for n in numbers]
            theirs = np.array(classical_sizes(codec, chunks)[1]) - header_bytes(codec)
            ours = np.array([sizes[n] for n in numbers])
            raw = np.array([len(c) for c in chunks])
            points = 100 * (ours - theirs) / raw
            margin = t.ppf((1 + CONFIDENCE) / 2, len(points) - 1) * points.std(ddof=1) / np.sqrt(len(points))
            print(
                f"{modality:6} {row[:60]:60} − {codec}: {points.mean():+6.1f} ±{margin:.1f} points "
                f"(paired t, {len(points)} chunks); smaller on {int((points < 0).sum())} of {len(points)}"
            )


if __name__ == "__main__":
    main()

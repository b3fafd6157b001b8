"""Long inputs through the real `gencomp compress` / `decompress`: time and peak memory at
growing sizes, to show both stay linear (time) and flat (memory) in the input's size.

    .venv/bin/python bench/long_inputs.py                        # 64 KB, 256 KB, 1 MB
    .venv/bin/python bench/long_inputs.py --sizes 16 64 --workers 1

Each size is run in fresh processes; the ratio columns divide by the smallest size's
figures, so the time column should read about the size ratio and memory about 1.
Not a test: it prints numbers measured side by side.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from peak_memory import gencomp_with_peak  # noqa: E402

from gencomp.datasets import text_corpus  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 256, 1024], help="input sizes in KiB")
    parser.add_argument("--model", default="zstd:paper,context_window=8", help="predictor spec (a fast one)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    corpus = text_corpus().data
    print(f"{args.model}, {args.workers} worker(s), Wikipedia prose repeated to size")
    print(f"{'size':>8} {'compress s':>11} {'decompress s':>13} {'peak MiB (c/d)':>15} {'time ratio':>11} {'size ratio':>11}")
    first = None
    with tempfile.TemporaryDirectory() as folder:
        for kib in args.sizes:
            data = (corpus * (1 + (kib << 10) // len(corpus)))[: kib << 10]
            source, packed, out = (Path(folder) / name for name in ("in", "in.gcz", "out"))
            source.write_bytes(data)
            workers = ["--workers", str(args.workers)]
            start = time.perf_counter()
            _, compress_peak = gencomp_with_peak("compress", "-m", args.model, *workers, "--force", str(source), str(packed), timeout=None)
            middle = time.perf_counter()
            _, decompress_peak = gencomp_with_peak("decompress", *workers, "--force", str(packed), str(out), timeout=None)
            end = time.perf_counter()
            assert out.read_bytes() == data
            first = first or (kib, end - start)
            print(
                f"{kib:>6} K {middle - start:>11.1f} {end - middle:>13.1f} "
                f"{compress_peak / 1024:>7.0f}/{decompress_peak / 1024:<7.0f} "
                f"{(end - start) / first[1]:>11.2f} {kib / first[0]:>11.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()

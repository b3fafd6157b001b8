"""Where the batched LLM scorer (what `evaluate -m llm` runs) spends a chunk's time: in
the model's forward passes (transformer and output layer, what a GPU speeds up) or in
the rest (byte tables, beam, quantisation: Python and numpy on one core, which no GPU
speeds up). The rest per byte bounds a GPU actor's speed from above.

    .venv/bin/python bench/llm_split.py --threads 1 --bytes 1024

Not a test: it prints numbers measured in one run.
"""

from __future__ import annotations

import argparse
import time

from gencomp import datasets
from gencomp.llm import scoring as llm_scoring
from gencomp.spec import load_predictor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bytes", type=int, default=1024)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    predictor = load_predictor(f"llm:threads={args.threads}")
    chunk = datasets.text_corpus().data[30_000 : 30_000 + args.bytes]
    llm_scoring.encode_chunk(predictor, chunk[:64])  # warm-up: first calls allocate
    model_seconds = [0.0]
    # the batched passes run the fused step and the output layer's products themselves,
    # not through the modules' forward (whose hooks would see nothing): time their methods
    for name in ("_forward", "_logits_of"):
        original = getattr(llm_scoring._Passes, name)

        def timed(self, *args, _original=original):
            start = time.perf_counter()
            try:
                return _original(self, *args)
            finally:
                model_seconds[0] += time.perf_counter() - start

        setattr(llm_scoring._Passes, name, timed)
    start = time.perf_counter()
    llm_scoring.encode_chunk(predictor, chunk)
    total = time.perf_counter() - start
    rest = total - model_seconds[0]
    print(f"{len(chunk)} bytes of Wikipedia text in {total:.2f} s ({len(chunk) / total:.1f} B/s, {args.threads} thread(s))")
    print(f"model forward passes: {model_seconds[0]:.2f} s ({100 * model_seconds[0] / total:.0f}%)")
    print(f"the rest: {rest:.2f} s = {1000 * rest / len(chunk):.2f} ms a byte -> at most {len(chunk) / rest:.0f} B/s on any device")


if __name__ == "__main__":
    main()

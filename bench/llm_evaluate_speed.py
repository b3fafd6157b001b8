"""`gencomp evaluate -m llm` end to end against the one-process path issue 11 set its 10×
against, bytes/s side by side in one run.

For each modality: the evaluate path (:func:`gencomp.evaluate.evaluate_predictor`: batched
scoring, ``--workers`` processes with cores // workers torch threads each, model loading
in the workers included) on ``--chunks`` chunks of the bundled data; then the base path,
one process on torch's default threads stepping transformers' own forward (what
`compress --model llm --workers 1` ran when the issue was filed: 14.5 B/s on prose), on
the first ``--base-bytes`` of the first chunk.

    .venv/bin/python bench/llm_evaluate_speed.py --modality text --modality image
    .venv/bin/python bench/llm_evaluate_speed.py --modality image-7bit --chunks 2 --base-bytes 512
"""

from __future__ import annotations

import argparse
import time

import torch

from gencomp import coding, evaluate, modalities
from gencomp.eval_data import bundled_data, select
from gencomp.llm.predictor import LLMPredictor
from gencomp.llm.step import TransformersSteps
from gencomp.workers import available_cores

KINDS = {"text": ("text", "8-bit"), "image": ("image", "8-bit"), "image-7bit": ("image", "7-bit"),
         "audio": ("audio", "8-bit"), "audio-7bit": ("audio", "7-bit")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modality", action="append", choices=list(KINDS), help="default: text and image")
    parser.add_argument("--chunks", type=int, default=4, help="chunks the evaluate path codes (drawn with seed 0)")
    parser.add_argument("--workers", type=int, default=min(4, available_cores()), help="evaluate's processes")
    parser.add_argument("--base-bytes", type=int, default=1024, help="bytes the base path codes")
    args = parser.parse_args()
    predictor = LLMPredictor()
    sets = {data.name: select(data, count=args.chunks) for data in bundled_data()}
    print(f"{available_cores()} cores; evaluate: {args.chunks} chunks, {args.workers} workers; base: {args.base_bytes} bytes, "
          f"{torch.get_num_threads()} torch threads")
    print(f"{'modality':<11} {'evaluate B/s':>12} {'base B/s':>9} {'ratio':>7}")
    for kind in args.modality or ["text", "image"]:
        name, mapping = KINDS[kind]
        data = sets[name]
        start = time.perf_counter()
        result = evaluate.evaluate_predictor(predictor, data, mapping, args.workers)
        fast = result.raw_bytes / (time.perf_counter() - start)
        first = data.chunks.read(int(data.chunks.numbers[0]))[: args.base_bytes]
        first = modalities.to_7bit(first) if mapping == "7-bit" else first
        base = LLMPredictor(loaded=predictor.loaded, vocab=predictor.vocab, threads=0)
        base._tree.steps = TransformersSteps(predictor.loaded)
        start = time.perf_counter()
        coding.encode_chunk(base, first)
        slow = len(first) / (time.perf_counter() - start)
        print(f"{kind:<11} {fast:12.1f} {slow:9.1f} {fast / slow:6.1f}×", flush=True)


if __name__ == "__main__":
    main()

"""`gencomp evaluate -m llm` end to end against the one-process path issue 11 set its 10×
against, bytes/s side by side in one run.

For each modality: the evaluate path (:func:`gencomp.evaluate.evaluate_predictor`: batched
scoring, ``--workers`` processes with cores // workers torch threads each, model loading
in the workers included) on ``--chunks`` chunks of the bundled data; then the base path on
the first ``--base-bytes`` / ``--chunks`` bytes of each of those chunks: what `compress
--model llm --workers 1` ran when the issue was filed (14.5 B/s on prose then), that is
the earlier gencomp in ``--baseline`` (its `llm` predictor, one process on torch's
default threads) — see bench/baseline.py for unpacking it. Without ``--baseline``, this
tree's step path on transformers' own forward stands in for it (it has the beam's later
changes; the ratios against it at stop 26 were those against 0.1's code at 0.5 within
noise: README).

    mkdir -p /tmp/baseline && git archive 662783b gencomp | tar -x -C /tmp/baseline
    .venv/bin/python bench/llm_evaluate_speed.py --baseline /tmp/baseline --base-bytes 512 \
        --modality text --modality image --modality image-7bit --modality audio
    .venv/bin/python bench/llm_evaluate_speed.py --modality image-7bit --chunks 2 --base-bytes 512
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from baseline import earlier_gencomp

if TYPE_CHECKING:
    from gencomp.llm.predictor import LLMPredictor

KINDS = {"text": ("text", "8-bit"), "image": ("image", "8-bit"), "image-7bit": ("image", "7-bit"),
         "audio": ("audio", "8-bit"), "audio-7bit": ("audio", "7-bit")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modality", action="append", choices=list(KINDS), help="default: text and image")
    # evaluate's own default sample: with fewer, the workers' start (8-17 s each) and the
    # slowest chunk weigh on the rate (2 chunks on 2 workers: text 126 B/s, 8 chunks: 208)
    parser.add_argument("--chunks", type=int, default=8, help="chunks the evaluate path codes (drawn with seed 0, as evaluate's default)")
    parser.add_argument("--workers", type=int, help="evaluate's processes (default: cores, at most 4)")
    parser.add_argument("--base-bytes", type=int, default=1024, help="bytes the base path codes, the start of each chunk")
    parser.add_argument("--baseline", type=Path, help="folder holding the earlier gencomp package (the issue's base path)")
    args = parser.parse_args()
    base_code = earlier_base(args.baseline) if args.baseline else None

    import torch

    from gencomp import evaluate, modalities
    from gencomp.eval_data import bundled_data, select
    from gencomp.llm.predictor import LLMPredictor
    from gencomp.workers import available_cores

    predictor = LLMPredictor()
    base_code = base_code or this_tree_base(predictor)
    workers = args.workers or min(4, available_cores())
    sets = {data.name: select(data, count=args.chunks) for data in bundled_data()}
    base = "the earlier gencomp's llm" if args.baseline else "this tree's step path on transformers' forward"
    print(f"{available_cores()} cores; evaluate: {args.chunks} chunks, {workers} workers; base ({base}): "
          f"{args.base_bytes} bytes, {torch.get_num_threads()} torch threads")
    print(f"{'modality':<11} {'evaluate B/s':>12} {'base B/s':>9} {'ratio':>7}")
    for kind in args.modality or ["text", "image"]:
        name, mapping = KINDS[kind]
        data = sets[name]
        start = time.perf_counter()
        result = evaluate.evaluate_predictor(predictor, data, mapping, workers)
        fast = result.raw_bytes / (time.perf_counter() - start)
        # the base codes the start of every chunk evaluate coded: one chunk alone may be
        # far easier or harder than the row (patches: 3.2 to 14.3 B/s by the chunk drawn)
        share = max(1, args.base_bytes // len(data.chunks))
        starts = [data.chunks.read(int(n))[:share] for n in data.chunks.numbers]
        starts = [modalities.to_7bit(s) if mapping == "7-bit" else s for s in starts]
        start = time.perf_counter()
        for piece in starts:
            base_code(piece)
        slow = sum(map(len, starts)) / (time.perf_counter() - start)
        print(f"{kind:<11} {fast:12.1f} {slow:9.1f} {fast / slow:6.1f}×", flush=True)


def earlier_base(folder: Path) -> Callable[[bytes], object]:
    """The earlier gencomp's `llm` coding a chunk (loaded before this tree's gencomp)."""
    (predictor,), coding = earlier_gencomp(folder, ["llm"])
    return lambda chunk: coding.encode_chunk(predictor, chunk)


def this_tree_base(predictor: LLMPredictor) -> Callable[[bytes], object]:
    """This tree's step path on transformers' forward and torch's default threads."""
    from gencomp import coding
    from gencomp.llm.predictor import LLMPredictor
    from gencomp.llm.step import TransformersSteps

    base = LLMPredictor(loaded=predictor.loaded, vocab=predictor.vocab, threads=0)
    base._tree.steps = TransformersSteps(predictor.loaded)
    return lambda chunk: coding.encode_chunk(base, chunk)


if __name__ == "__main__":
    main()

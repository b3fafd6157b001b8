"""The LLM's compression rates: batched scoring (what `gencomp evaluate` runs) against
step-by-step coding (what `gencomp compress` writes), side by side on the same bytes.

For each modality (text, image patches and audio in 8-bit and the paper's 7-bit
mapping, random bytes) the same chunks of the bundled data are coded each way in turn,
so that other load on this shared machine hits all alike. Printed per modality: bytes/s
of the batched path, of the step path, and (``--baseline``) of the step path on
transformers' own forward (the one-process path before the fused step, the baseline
issue 11 set its 10× against), the speed-ups, and the difference of the batched code
from the step path's in bytes and in ideal bits (Σ -log2 p, free of the coder's
rounding to whole bytes): evaluate's rates promise 0.5%.

    .venv/bin/python bench/llm_rates.py --threads 1                 # 1 chunk of 1024 bytes each
    .venv/bin/python bench/llm_rates.py --threads 1 --bytes 2048 --baseline --modality text
    .venv/bin/python bench/llm_rates.py --no-step                    # batched only
    .venv/bin/python bench/llm_rates.py --threads 1 --bytes 2048 --drawn 0 --modality image   # as evaluate draws
    .venv/bin/python bench/llm_rates.py --threads 1 --drawn 0 --dtype bfloat16   # llm:dtype=bfloat16, both paths
"""

from __future__ import annotations

import argparse
import time
from typing import Callable

import torch

from gencomp import coding, modalities
from gencomp.llm import scoring as llm_scoring
from gencomp.eval_data import bundled_data, select
from gencomp.llm.loading import DTYPES
from gencomp.llm.predictor import LLMPredictor
from gencomp.llm.step import TransformersSteps

KINDS = {
    "text": ("text", "8-bit"),
    "image": ("image", "8-bit"),
    "image-7bit": ("image", "7-bit"),
    "audio": ("audio", "8-bit"),
    "audio-7bit": ("audio", "7-bit"),
    "random": ("random", "8-bit"),
}


def chunks_of(kind: str, count: int, size: int, drawn: list[int] | None = None) -> list[bytes]:
    """``count`` chunks of the bundled data, spread over it, or those ``drawn`` of the 8
    that `gencomp evaluate` draws by default (seed 0); cut to ``size`` bytes."""
    name, mapping = KINDS[kind]
    data = next(m for m in bundled_data() if m.name == name)
    if drawn is not None:
        numbers = select(data, count=8).chunks.numbers
        picked = [data.chunks.read(int(numbers[i]))[:size] for i in drawn]
    else:
        step = max(1, len(data.chunks) // (count + 1))
        picked = [data.chunks.read(int(data.chunks.numbers[step * (i + 1)]))[:size] for i in range(count)]
    return [modalities.to_7bit(c) for c in picked] if mapping == "7-bit" else picked


def timed(code: Callable[[], coding.CodedChunk]) -> tuple[coding.CodedChunk, float]:
    start = time.perf_counter()
    coded = code()
    return coded, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modality", action="append", choices=list(KINDS), help="default: all")
    parser.add_argument("--chunks", type=int, default=1, help="chunks per modality")
    parser.add_argument("--bytes", type=int, default=1024, help="bytes per chunk (at most 2048)")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's own choice; 1 where other work shares the cores)")
    parser.add_argument("--drawn", help="chunks (e.g. 0,2) of the 8 `evaluate` draws by default, instead of --chunks")
    parser.add_argument("--no-step", dest="step", action="store_false", help="skip the step-by-step path")
    parser.add_argument("--baseline", action="store_true", help="also the step path on transformers' forward")
    parser.add_argument("--dtype", default="auto", choices=DTYPES, help="the model's dtype, for every path (llm:dtype=…)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    predictor = LLMPredictor(dtype=args.dtype, threads=0)
    print(f"torch threads: {torch.get_num_threads()}; chunks of {args.bytes} bytes, {args.chunks} per modality")
    print(f"{'modality':<11} {'batched B/s':>11} {'step B/s':>9} {'base B/s':>9} {'vs step':>8} {'vs base':>8} {'size diff':>9} {'bits diff':>9}")
    for kind in args.modality or list(KINDS):
        chunks = chunks_of(kind, args.chunks, args.bytes, [int(i) for i in args.drawn.split(",")] if args.drawn else None)
        seconds = {"batched": 0.0, "step": 0.0, "base": 0.0}
        size = {"batched": 0, "step": 0}
        bits = {"batched": 0.0, "step": 0.0}
        for chunk in chunks:
            coded, s = timed(lambda: llm_scoring.encode_chunk(predictor, chunk))
            seconds["batched"] += s
            size["batched"] += len(coded.data)
            bits["batched"] += coded.ideal_bits
            if args.step:
                coded, s = timed(lambda: coding.encode_chunk(LLMPredictor(loaded=predictor.loaded, vocab=predictor.vocab, threads=0), chunk))
                seconds["step"] += s
                size["step"] += len(coded.data)
                bits["step"] += coded.ideal_bits
            if args.baseline:
                base = LLMPredictor(loaded=predictor.loaded, vocab=predictor.vocab, threads=0)
                base._tree.steps = TransformersSteps(predictor.loaded)
                seconds["base"] += timed(lambda: coding.encode_chunk(base, chunk))[1]
        total = sum(map(len, chunks))

        def rate(path: str) -> str:
            return f"{total / seconds[path]:9.1f}" if seconds[path] else f"{'-':>9}"

        def ratio(path: str) -> str:
            return f"{seconds[path] / seconds['batched']:7.1f}×" if seconds[path] else f"{'-':>8}"

        diffs = f"{100 * (size['batched'] / size['step'] - 1):+8.2f}% {100 * (bits['batched'] / bits['step'] - 1):+8.3f}%" if args.step else f"{'-':>9} {'-':>9}"
        print(f"{kind:<11} {total / seconds['batched']:11.1f} {rate('step')} {rate('base')} {ratio('step')} {ratio('base')} {diffs}", flush=True)


if __name__ == "__main__":
    main()

"""The LLM's compression rates: batched scoring (what `gencomp evaluate` runs) against
step-by-step coding (what `gencomp compress` writes), side by side on the same bytes.

For each modality (text, image patches in 8-bit and the paper's 7-bit mapping, 8-bit
audio) the same chunks of the bundled data are coded both ways, alternating so that
other load on this shared machine hits both alike. Printed per modality: bytes/s of
each path and their ratio (the speed-up), the code sizes of each and their difference
(the agreement evaluate's rates promise: within 0.5%) and of the ideal code
lengths (Σ -log2 p, free of the coder's rounding to whole bytes), and the batched path's model
passes and the token sequences scored by an ancestor's distribution (stood in).

    .venv/bin/python bench/llm_rates.py                       # 1 chunk of 1024 bytes each, ~10 min on 2 cores
    .venv/bin/python bench/llm_rates.py --bytes 2048 --chunks 2
    .venv/bin/python bench/llm_rates.py --modality text --no-step   # batched only
"""

from __future__ import annotations

import argparse
import time

import torch

from gencomp import coding, llm_scoring, modalities
from gencomp.eval_data import bundled_data
from gencomp.llm import LLMPredictor

KINDS = {
    "text": ("text", "8-bit"),
    "image": ("image", "8-bit"),
    "image-7bit": ("image", "7-bit"),
    "audio": ("audio", "8-bit"),
    "audio-7bit": ("audio", "7-bit"),
    "random": ("random", "8-bit"),
}


def chunks_of(kind: str, count: int, size: int) -> list[bytes]:
    """``count`` chunks of the bundled data, spread over it, cut to ``size`` bytes."""
    name, mapping = KINDS[kind]
    data = next(m for m in bundled_data(random_bytes=2048) if m.name == name)
    step = max(1, len(data.chunks) // (count + 1))
    picked = [data.chunks.read(int(data.chunks.numbers[step * (i + 1)]))[:size] for i in range(count)]
    return [modalities.to_7bit(c) for c in picked] if mapping == "7-bit" else picked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modality", action="append", choices=list(KINDS), help="default: all")
    parser.add_argument("--chunks", type=int, default=1, help="chunks per modality")
    parser.add_argument("--bytes", type=int, default=1024, help="bytes per chunk (at most 2048)")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's own choice; 1 where other work shares the cores)")
    parser.add_argument("--no-step", dest="step", action="store_false", help="skip the step-by-step path")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    predictor = LLMPredictor()
    print(f"torch threads: {torch.get_num_threads()}; chunks of {args.bytes} bytes, {args.chunks} per modality")
    print(f"{'modality':<11} {'batched B/s':>11} {'step B/s':>9} {'speed-up':>8} {'batched B':>9} {'step B':>7} {'diff':>7} {'bits diff':>9} {'passes':>6} {'stood in':>8}")
    for kind in args.modality or list(KINDS):
        batched_s = step_s = 0.0
        batched_size = step_size = passes = stood_in = 0
        batched_bits = step_bits = 0.0
        chunks = chunks_of(kind, args.chunks, args.bytes)
        for chunk in chunks:
            start = time.perf_counter()
            walk = llm_scoring._Walk(predictor, llm_scoring._Passes(predictor, chunk))
            coded = coding.encode_chunk(walk, chunk)
            batched_size, batched_bits = batched_size + len(coded.data), batched_bits + coded.ideal_bits
            batched_s += time.perf_counter() - start
            passes, stood_in = passes + walk.passes.passes, stood_in + walk.stood_in
            if args.step:
                fresh = LLMPredictor(loaded=predictor.loaded, vocab=predictor.vocab)
                start = time.perf_counter()
                coded = coding.encode_chunk(fresh, chunk)
                step_size, step_bits = step_size + len(coded.data), step_bits + coded.ideal_bits
                step_s += time.perf_counter() - start
        total = sum(map(len, chunks))
        step_rate = f"{total / step_s:9.1f}" if args.step else f"{'-':>9}"
        ratio = f"{step_s / batched_s:7.1f}×" if args.step else f"{'-':>8}"
        diff = f"{100 * (batched_size / step_size - 1):+6.2f}%" if args.step else f"{'-':>7}"
        bits_diff = f"{100 * (batched_bits / step_bits - 1):+6.3f}%" if args.step else f"{'-':>8}"
        print(
            f"{kind:<11} {total / batched_s:11.1f} {step_rate} {ratio} {batched_size:9d} "
            f"{step_size if args.step else '-':>7} {diff} {bits_diff:>9} {passes:6d} {stood_in:8d}",
            flush=True,
        )


if __name__ == "__main__":
    main()

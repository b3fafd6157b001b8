"""The LLM's batched rates in float32 and bfloat16, side by side in one run: bytes/s and
bits of each dtype on the same chunks (evaluate's first drawn chunk of each modality by
default), and bfloat16's ratios to float32.

bfloat16 products run about 2.4× float32's on CPUs that multiply them natively
(AVX512-BF16, AMX); elsewhere torch emulates them, slower than float32. The two dtypes are
two numerical versions of the model, so their code lengths differ; `compress` and
`evaluate` agree with each other for either (``llm_rates.py --dtype``).

    .venv/bin/python bench/llm_dtypes.py --threads 1
    .venv/bin/python bench/llm_dtypes.py --threads 1 --modality image-7bit --bytes 2048
"""

from __future__ import annotations

import argparse
import time

import torch

from gencomp.llm import scoring
from gencomp.llm.loading import native_bfloat16
from gencomp.llm.predictor import LLMPredictor
from llm_rates import KINDS, chunks_of

DTYPES = ("float32", "bfloat16")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modality", action="append", choices=list(KINDS), help="default: text, image, image-7bit, audio")
    parser.add_argument("--drawn", default="0", help="chunks (e.g. 0,2) of the 8 `evaluate` draws by default")
    parser.add_argument("--bytes", type=int, default=1024, help="bytes per chunk (at most 2048)")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's own choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"cpu {torch.backends.cpu.get_cpu_capability()}, native bfloat16: {native_bfloat16()}; "
          f"torch threads {torch.get_num_threads()}; chunks {args.drawn} of {args.bytes} bytes")
    predictors = {dtype: LLMPredictor(dtype=dtype, threads=0) for dtype in DTYPES}
    warm = chunks_of("text", 1, 64, [1])[0]
    for predictor in predictors.values():  # the fused weights are built by the first pass
        scoring.encode_chunk(predictor, warm)
    print(f"{'modality':<11} {'f32 B/s':>8} {'bf16 B/s':>8} {'speed':>6} {'f32 bits':>10} {'bf16 bits':>10} {'bits':>8}")
    for kind in args.modality or ["text", "image", "image-7bit", "audio"]:
        seconds, bits = dict.fromkeys(DTYPES, 0.0), dict.fromkeys(DTYPES, 0.0)
        chunks = chunks_of(kind, 0, args.bytes, [int(i) for i in args.drawn.split(",")])
        for chunk in chunks:
            for dtype, predictor in predictors.items():  # in turn, so that other load hits both alike
                start = time.perf_counter()
                bits[dtype] += scoring.encode_chunk(predictor, chunk).ideal_bits
                seconds[dtype] += time.perf_counter() - start
        total = sum(map(len, chunks))
        f32, bf16 = DTYPES
        print(f"{kind:<11} {total / seconds[f32]:8.1f} {total / seconds[bf16]:8.1f} {seconds[f32] / seconds[bf16]:5.2f}× "
              f"{bits[f32]:10.1f} {bits[bf16]:10.1f} {bits[bf16] / bits[f32] - 1:+7.2%}", flush=True)


if __name__ == "__main__":
    main()

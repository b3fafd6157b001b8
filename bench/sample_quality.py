"""Are the samples of a predictor setting any good? Same prompts, same seeds, side by side.

For each setting, continuations of held-out Wikipedia prompts are sampled (at temperature
1 unless told) and scored by:
  (a) judge: the bundled LLM's bits/byte on the continuation given the prompt (an
      independent model; lower reads more natural), `--no-judge` to skip it;
  (b) copy: the share of the continuation's 8-byte windows that occur in the prompt, so
      that copying the prompt is not mistaken for quality;
  (c) distinct-2 / distinct-4: unique word 2-/4-grams over all word 2-/4-grams;
  (d) bytes/s of sampling.

    .venv/bin/python bench/sample_quality.py
    .venv/bin/python bench/sample_quality.py --setting gzip:paper --setting gzip --length 300 --show
"""

from __future__ import annotations

import argparse
import math
import time

import gencomp
from gencomp import datasets
from gencomp.llm.predictor import LLMPredictor
from gencomp.llm.scoring import token_level_bits

SETTINGS = ("gzip:paper", "gzip:horizon=1,views=1,exponent=1", "gzip", "zstd:paper", "zstd", "lzma", "bz2")
PROMPT_ARTICLES = 3  # held out: the corpus's last articles of at least PROMPT_BYTES
PROMPT_BYTES = 1024


def prompts(count: int = PROMPT_ARTICLES) -> list[bytes]:
    """The last ``PROMPT_BYTES`` of each of the corpus's last ``count`` long articles."""
    leads = [text.encode() for text in datasets.wikipedia_articles().values()]
    long = [lead for lead in leads if len(lead) >= PROMPT_BYTES]
    return [lead[-PROMPT_BYTES:] for lead in long[-count:]]


def judge_bits(judge: LLMPredictor, prompt: bytes, continuation: bytes) -> float:
    """The judge's bits/byte on ``continuation`` given ``prompt``: its token-level bits on
    prompt + continuation minus those on the prompt: two forward passes, where the
    byte-level walk takes a model step per byte (the two agree on prose)."""
    both = token_level_bits(judge, prompt + continuation)
    return (both - token_level_bits(judge, prompt)) / max(1, len(continuation))


def copy_rate(prompt: bytes, continuation: bytes, window: int = 8) -> float:
    """Share of the continuation's ``window``-byte windows that occur in the prompt."""
    windows = [continuation[i : i + window] for i in range(len(continuation) - window + 1)]
    return sum(w in prompt for w in windows) / len(windows) if windows else 0.0


def distinct(continuation: bytes, n: int) -> float:
    """Unique word n-grams / word n-grams (1.0: no n-gram repeats)."""
    words = continuation.split()
    grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setting", action="append", help="predictor spec (repeatable)")
    parser.add_argument("--length", type=int, default=200, help="bytes per continuation")
    parser.add_argument("--prompts", type=int, default=PROMPT_ARTICLES)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--no-judge", action="store_true", help="skip the LLM judge (a)")
    parser.add_argument("--show", action="store_true", help="print each continuation")
    args = parser.parse_args()
    judge = None if args.no_judge else gencomp.load_predictor("llm")
    chosen = prompts(args.prompts)
    print(f"{'setting':42} {'judge':>6} {'copy':>5} {'dist2':>5} {'dist4':>5} {'bytes/s':>8}")
    for spec in args.setting or SETTINGS:
        predictor = gencomp.load_predictor(spec)
        rows, seconds = [], 0.0
        for i, prompt in enumerate(chosen):
            start = time.perf_counter()
            continuation = bytes(gencomp.sample(predictor, prompt, args.length, temperature=args.temperature, seed=args.seed + i))
            seconds += time.perf_counter() - start
            judged = judge_bits(judge, prompt, continuation) if judge else math.nan
            rows.append((judged, copy_rate(prompt, continuation), distinct(continuation, 2), distinct(continuation, 4)))
            if args.show:
                print(f"--- {spec}, prompt {i}, seed {args.seed + i}:\n{continuation.decode(errors='replace')!r}")
        means = [sum(column) / len(column) for column in zip(*rows)]
        speed = args.length * len(chosen) / seconds
        print(f"{spec:42} {means[0]:6.3f} {means[1]:5.3f} {means[2]:5.3f} {means[3]:5.3f} {speed:8.1f}", flush=True)


if __name__ == "__main__":
    main()

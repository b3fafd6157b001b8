"""Byte-level sampling with the LLM predictor against transformers' own ``generate``.

Same model, prompt and number of bytes, measured side by side in one run (alternating,
so that other load on the machine hits both alike; medians are printed):
- ``gencomp.sample(predictor, prompt, n, seed=…)`` at temperature 1: it uses
  ``LLMPredictor.sample_next``, the branch drawn first, so a model step only where a
  token ends;
- byte by byte through the full ``logprobs`` (the path for top-k, top-p, T != 1);
- ``model.generate(do_sample=True)`` until its tokens decode to at least n bytes
  (special tokens suppressed, so that both write text).
Then the time of one model step (one token on a KV cache of the prompt's length) against
the weight-streaming limit: bytes of weights ÷ measured memory read bandwidth.

    .venv/bin/python bench/llm_speed.py                 # 200 bytes, 2 rounds, ~3 min on 2 cores
    .venv/bin/python bench/llm_speed.py --bytes 400 --rounds 3
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

import gencomp
from gencomp import datasets
from gencomp.llm import LLMPredictor
from gencomp.predictor import crop
from gencomp.sampling import draw


def sample_bytes(predictor: LLMPredictor, prompt: bytes, n: int, seed: int) -> tuple[float, int]:
    """(seconds, model steps) for ``gencomp.sample`` at its defaults with a fresh beam: at
    temperature 1 it uses ``LLMPredictor.sample_next`` (the branch drawn first)."""
    fresh = LLMPredictor(loaded=predictor.loaded, context_window=predictor.context_window)
    start = time.perf_counter()
    out = bytes(gencomp.sample(fresh, prompt, n, seed=seed))
    assert len(out) == n
    return time.perf_counter() - start, fresh.model_steps


def logprobs_bytes(predictor: LLMPredictor, prompt: bytes, n: int, seed: int) -> tuple[float, int]:
    """The same through the full distribution every byte (what top-k/top-p/T != 1 use)."""
    fresh = LLMPredictor(loaded=predictor.loaded, context_window=predictor.context_window)
    rng = np.random.default_rng(seed)
    out = bytearray(prompt)
    start = time.perf_counter()
    for _ in range(n):
        logprobs = fresh.logprobs(crop(out, fresh.context_window))
        out.append(draw(np.exp(logprobs), rng))
    return time.perf_counter() - start, fresh.model_steps


@torch.inference_mode()
def generate_bytes(predictor: LLMPredictor, prompt: bytes, n: int, seed: int) -> tuple[float, int]:
    """(seconds, tokens) for ``generate(do_sample=True)`` to write at least n bytes."""
    from transformers import StoppingCriteria, StoppingCriteriaList

    vocab, model = predictor.vocab, predictor.model
    ids = torch.tensor([[predictor.bos, *vocab.encode(prompt)]], device=predictor.loaded.device)
    specials = [i for i, b in enumerate(vocab.token_bytes) if b is None]

    class EnoughBytes(StoppingCriteria):
        def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs) -> torch.Tensor:
            new = input_ids[0, ids.shape[1] :].tolist()
            done = sum(len(vocab.token_bytes[t] or b"") for t in new) >= n
            return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)

    torch.manual_seed(seed)
    start = time.perf_counter()
    out = model.generate(
        ids,
        attention_mask=torch.ones_like(ids),
        do_sample=True,
        top_k=0,
        max_new_tokens=n,
        suppress_tokens=specials,
        stopping_criteria=StoppingCriteriaList([EnoughBytes()]),
        pad_token_id=predictor.bos,
    )
    return time.perf_counter() - start, out.shape[1] - ids.shape[1]


@torch.inference_mode()
def step_seconds(predictor: LLMPredictor, prompt: bytes, repeats: int = 10) -> float:
    """Median time of one token's forward pass on a KV cache holding the prompt."""
    from transformers import DynamicCache

    ids = torch.tensor([[predictor.bos, *predictor.vocab.encode(prompt)]], device=predictor.loaded.device)
    cache = DynamicCache(config=predictor.model.config)
    predictor.model(input_ids=ids, cache=cache, use_cache=True)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        predictor.model(input_ids=ids[:, -1:], cache=cache, use_cache=True)
        times.append(time.perf_counter() - start)
        cache.crop(-1)
    return statistics.median(times)


def read_bandwidth(gigabytes: float = 1.0, repeats: int = 5) -> float:
    """Memory read bandwidth in bytes/s: the best time of summing a large float32 tensor."""
    x = torch.ones(int(gigabytes * 2**30) // 4)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        x.sum()
        best = min(best, time.perf_counter() - start)
    return x.numel() * 4 / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bytes", type=int, default=200, help="bytes to write per run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--prompt-bytes", type=int, default=256)
    args = parser.parse_args()
    predictor = LLMPredictor()
    prompt = datasets.default_prompt().data[: args.prompt_bytes]
    n = args.bytes
    print(f"{predictor.spec}, torch threads {torch.get_num_threads()}, prompt {len(prompt)} B, {n} B per run")
    ours, branch, theirs = [], [], []
    for seed in range(args.rounds):
        seconds, steps = sample_bytes(predictor, prompt, n, seed)
        ours.append(n / seconds)
        print(f"  round {seed}: gencomp.sample  {n / seconds:6.1f} B/s ({steps / n:.3f} model steps/B)", flush=True)
        seconds, steps = logprobs_bytes(predictor, prompt, n, seed)
        branch.append(n / seconds)
        print(f"  round {seed}: logprobs        {n / seconds:6.1f} B/s ({steps / n:.3f} model steps/B)", flush=True)
        seconds, tokens = generate_bytes(predictor, prompt, n, seed)
        theirs.append(n / seconds)
        print(f"  round {seed}: generate        {n / seconds:6.1f} B/s ({tokens / n:.3f} tokens/B)", flush=True)
    a, c, b = statistics.median(ours), statistics.median(branch), statistics.median(theirs)
    print(f"generate(do_sample=True) {b:.1f} B/s")
    print(f"gencomp.sample (T=1, branch first)   {a:.1f} B/s: {a / b:.2f}x generate")
    print(f"full logprobs every byte             {c:.1f} B/s: {c / b:.2f}x generate")

    step = step_seconds(predictor, prompt)
    weights = sum(p.numel() * p.element_size() for p in predictor.model.parameters())
    bandwidth = read_bandwidth()
    limit = weights / bandwidth
    print(
        f"one model step {1e3 * step:.1f} ms; weight-streaming limit {1e3 * limit:.1f} ms "
        f"({weights / 1e6:.0f} MB of weights at {bandwidth / 1e9:.1f} GB/s): {step / limit:.1f}x the limit"
    )


if __name__ == "__main__":
    main()

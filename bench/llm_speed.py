"""Byte-level sampling with the LLM predictor against transformers' own ``generate``.

Same model, prompt and number of bytes, measured side by side in one run (alternating,
so that other load on the machine hits both alike; medians are printed):
- ``gencomp.sample(predictor, prompt, n, seed=…)`` at temperature 1: it uses
  ``LLMPredictor.sample_next``, the branch drawn first, so a model step only where a
  token ends;
- ``gencomp.sample`` with the knobs (default T=0.8, top-p 0.95), which ``sample_next``
  applies to the model's tokens as ``generate()`` does, and, for comparison, the knobs on
  bytes (the full ``logprobs`` every byte, warped: what any predictor without its own
  draw gets, and what the LLM did before 0.3);
- ``model.generate(do_sample=True)`` until its tokens decode to at least n bytes
  (special tokens suppressed, so that both write text), at T=1 and with the same knobs.
Then the time of one model step (one token on a KV cache of the prompt's length), the
predictor's step (``gencomp.llm.step``) beside transformers' forward, against the
weight-streaming limit: bytes of weights ÷ memory read bandwidth measured on as many
threads as the step runs on.

    .venv/bin/python bench/llm_speed.py                 # 200 bytes, 2 rounds, 1 thread, ~4 min
    .venv/bin/python bench/llm_speed.py --bytes 400 --rounds 3 --threads 2
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import gencomp
from gencomp import datasets
from gencomp.llm.predictor import LLMPredictor
from gencomp.llm.step import TransformersSteps, new_steps


class ByteLevel:
    """The predictor without its own draw: ``gencomp.sample`` warps ``logprobs``."""

    def __init__(self, predictor: LLMPredictor) -> None:
        self.predictor, self.context_window = predictor, predictor.context_window

    def logprobs(self, context: bytes):
        return self.predictor.logprobs(context)

    @property
    def model_steps(self) -> int:
        return self.predictor.model_steps


def sample_bytes(predictor: LLMPredictor, prompt: bytes, n: int, seed: int, byte_level: bool = False, **knobs: float) -> tuple[float, int]:
    """(seconds, model steps) for ``gencomp.sample`` with a fresh beam, through
    ``LLMPredictor.sample_next`` (the branch drawn first) or, ``byte_level``, ``logprobs``."""
    fresh = LLMPredictor(loaded=predictor.loaded, context_window=predictor.context_window, threads=predictor.threads)
    start = time.perf_counter()
    out = bytes(gencomp.sample(ByteLevel(fresh) if byte_level else fresh, prompt, n, seed=seed, **knobs))
    assert len(out) == n
    return time.perf_counter() - start, fresh.model_steps


@torch.inference_mode()
def generate_bytes(predictor: LLMPredictor, prompt: bytes, n: int, seed: int, **knobs: float) -> tuple[float, int]:
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
        top_k=int(knobs.get("top_k", 0)),
        top_p=knobs.get("top_p", 1.0),
        temperature=knobs.get("temperature", 1.0),
        max_new_tokens=n,
        suppress_tokens=specials,
        stopping_criteria=StoppingCriteriaList([EnoughBytes()]),
        pad_token_id=predictor.bos,
    )
    return time.perf_counter() - start, out.shape[1] - ids.shape[1]


@torch.inference_mode()
def step_seconds(predictor: LLMPredictor, prompt: bytes, repeats: int = 10) -> tuple[float, float]:
    """Median times of one token's step on a cache holding the prompt: (the predictor's
    step, transformers' forward), alternating."""
    ids = [predictor.bos, *predictor.vocab.encode(prompt)]
    ours, theirs = new_steps(predictor.loaded), TransformersSteps(predictor.loaded)
    times: tuple[list[float], list[float]] = ([], [])
    for steps in (ours, theirs):
        steps.run(ids[:-1])
    for _ in range(repeats):
        for steps, spent in zip((ours, theirs), times):
            start = time.perf_counter()
            steps.run(ids[-1:])
            spent.append(time.perf_counter() - start)
            steps.crop(len(ids) - 1)
    return statistics.median(times[0]), statistics.median(times[1])


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
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: the machine is shared)")
    parser.add_argument("--temperature", type=float, default=0.8, help="knob run's temperature")
    parser.add_argument("--top-p", type=float, default=0.95, help="knob run's top-p")
    parser.add_argument("--top-k", type=int, default=0, help="knob run's top-k")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    predictor = LLMPredictor(threads=args.threads)
    prompt = datasets.default_prompt().data[: args.prompt_bytes]
    knobs = {"temperature": args.temperature, "top_p": args.top_p, "top_k": args.top_k}
    n = args.bytes
    print(f"{predictor.spec}, step {predictor.fingerprint.split('step=')[1]}, prompt {len(prompt)} B, {n} B per run, knobs {knobs}")
    runs: dict[str, list[float]] = {}
    for seed in range(args.rounds):
        for name, run, options in (
            ("gencomp.sample T=1", sample_bytes, {}),
            ("generate T=1", generate_bytes, {}),
            ("gencomp.sample knobs", sample_bytes, knobs),
            ("generate knobs", generate_bytes, knobs),
            ("byte-level knobs", sample_bytes, {**knobs, "byte_level": True}),
        ):
            seconds, steps = run(predictor, prompt, n, seed, **options)
            runs.setdefault(name, []).append(n / seconds)
            unit = "tokens" if name.startswith("generate") else "model steps"
            print(f"  round {seed}: {name:21} {n / seconds:6.1f} B/s ({steps / n:.3f} {unit}/B)", flush=True)
    rate = {name: statistics.median(values) for name, values in runs.items()}
    for kind in ("T=1", "knobs"):
        ours, theirs = rate[f"gencomp.sample {kind}"], rate[f"generate {kind}"]
        print(f"{kind:5}: gencomp.sample {ours:.1f} B/s, generate {theirs:.1f} B/s: {ours / theirs:.2f}x generate")
    print(f"knobs on bytes: {rate['byte-level knobs']:.1f} B/s: {rate['byte-level knobs'] / rate['generate knobs']:.2f}x generate")

    ours, theirs = step_seconds(predictor, prompt)
    weights = sum(p.numel() * p.element_size() for p in predictor.model.parameters())
    bandwidth = read_bandwidth()
    limit = weights / bandwidth
    print(
        f"one model step: {1e3 * ours:.1f} ms ({1e3 * theirs:.1f} ms through transformers' forward); "
        f"weight-streaming limit {1e3 * limit:.1f} ms ({weights / 1e6:.0f} MB of weights at {bandwidth / 1e9:.1f} GB/s "
        f"on {torch.get_num_threads()} thread(s)): {ours / limit:.1f}x the limit ({theirs / limit:.1f}x)"
    )


if __name__ == "__main__":
    main()

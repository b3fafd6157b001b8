"""The predictor's own model step (gencomp/llm/step.py) against transformers' forward pass
of the same bundled SmolLM2: the reference is transformers' implementation, not ours."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import LlamaConfig

from gencomp.llm.beam import Node
from gencomp.llm.predictor import LLMPredictor
from gencomp.llm.step import LlamaSteps, TransformersSteps, new_steps, packable, scoring_weights, supports_fused


def walk(predictor: LLMPredictor, data: bytes, start: int = 0) -> list[np.ndarray]:
    """logprobs of x[:start], …, x[:n-1]: the coder's call pattern."""
    return [predictor.logprobs(data[:t]) for t in range(start, len(data))]


def test_the_bundled_model_takes_the_fused_step(llm_predictor: LLMPredictor) -> None:
    assert isinstance(new_steps(llm_predictor.loaded), LlamaSteps)
    assert llm_predictor.fingerprint.endswith(" step=fused-llama1")  # files of other steps are refused


def test_only_plain_llamas_take_the_fused_step() -> None:
    assert supports_fused(LlamaConfig())
    assert not supports_fused(LlamaConfig(attention_bias=True))
    assert not supports_fused(LlamaConfig(rope_parameters={"rope_type": "linear", "factor": 2.0, "rope_theta": 1e4}))


@pytest.mark.parametrize("kind", ["prose", "odd bytes past the first cache size"])
def test_fused_steps_give_transformers_distributions(llm_predictor: LLMPredictor, prose: bytes, kind: str) -> None:
    """Tolerance 1e-3 in natural-log probability, as for cached vs recomputed keys: only
    float32 rounding differs. The odd bytes (built here: every byte value, some with no
    token of their own) make more than the 256 tokens the fused cache starts with, so
    the cache grows mid-walk."""
    data = prose[:20] if kind == "prose" else bytes(range(256)) + bytes(range(0, 256, 7))
    start = 0 if kind == "prose" else 280
    fused = LLMPredictor(loaded=llm_predictor.loaded)
    reference = LLMPredictor(loaded=llm_predictor.loaded)
    reference._tree.steps = TransformersSteps(llm_predictor.loaded)
    ours, theirs = walk(fused, data, start), walk(reference, data, start)
    assert fused.model_steps <= reference.model_steps  # token ends share tree passes
    assert max(float(np.max(np.abs(a - b))) for a, b in zip(ours, theirs)) < 1e-3
    if kind != "prose":
        assert fused._tree.steps.cache.shape[3] > 256


def test_a_fused_step_stores_transformers_keys_and_values(llm_predictor: LLMPredictor, prose: bytes) -> None:
    ids = llm_predictor.vocab.encode(prose[:200])
    results = []
    for steps in (LlamaSteps(llm_predictor.loaded), TransformersSteps(llm_predictor.loaded)):
        steps.run(ids[:-3])  # a prompt, then three tokens in one pass on its cache
        results.append(steps.run(ids[-3:]))
    (logits, kv), (ref_logits, ref_kv) = results
    assert kv.shape == ref_kv.shape == (30, 2, 3, 3, 64)
    assert torch.allclose(kv, ref_kv, atol=1e-4) and torch.allclose(logits, ref_logits, atol=1e-3)


def test_token_ends_in_one_tree_pass_match_separate_steps(llm_predictor: LLMPredictor, prose: bytes) -> None:
    """Three new tokens on three different computed sequences (a shared start, then two
    branches of one and two tokens) in one pass of the fused step, against one
    transformers step each."""
    ids = llm_predictor.vocab.encode(prose[:80])
    firsts = []
    for predictor in (LLMPredictor(loaded=llm_predictor.loaded), LLMPredictor(loaded=llm_predictor.loaded)):
        if not firsts:
            predictor._tree.steps = TransformersSteps(llm_predictor.loaded)
        base = predictor._extend(predictor._root, ids[:-4])
        branches = [predictor._extend(base, ids[-4:-2]), predictor._extend(base, ids[-4:-3]), base]
        ends = [Node(parent, token) for parent, token in zip(branches, ids[-3:])]
        steps = predictor.model_steps
        predictor._ensure_all(ends)
        assert predictor.model_steps - steps == (3 if not firsts else 1)
        firsts.append(np.array([end.first for end in ends]))
    assert np.allclose(firsts[0], firsts[1], rtol=1e-3, atol=1e-9)


def test_the_scorers_packed_weights_give_transformers_logits(llm_predictor: LLMPredictor, prose: bytes) -> None:
    """The batched scorer's weights (prepacked for oneDNN here) against transformers'
    forward of the same tokens: float32 rounding apart, the same logits."""
    weights = scoring_weights(llm_predictor.loaded)
    assert weights.packed == packable(llm_predictor.loaded.device, llm_predictor.loaded.dtype)
    ids = [llm_predictor.bos, *llm_predictor.vocab.encode(prose[:300])]
    with torch.inference_mode():
        cache = weights.new_cache(len(ids))
        ours = weights.forward(torch.tensor(ids), torch.arange(len(ids)), cache, 0, None, slice(None))
        theirs = llm_predictor.model(input_ids=torch.tensor([ids]), use_cache=False).logits[0]
    assert torch.allclose(ours, theirs, atol=1e-3)

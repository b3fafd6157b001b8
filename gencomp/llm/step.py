"""One model step: a forward pass of new tokens on the key/value cache of one sequence.

``LLMPredictor`` moves its cache between token sequences of a tree (its beam), so a cache
here is a stack of positions that can be cropped, refilled with stored keys and values,
and extended by a forward pass (``TreeSteps`` does the moving). Two implementations:

- ``LlamaSteps`` for Llama-architecture models (the bundled SmolLM2): the decoder written
  out in plain torch (nanoGPT-style) with q/k/v and gate/up fused into one matrix each,
  stored transposed (MKL's one-row products read them faster), one pre-allocated cache
  that grows by doubling, and ``run_tree``: several new tokens on different branches in
  one pass (a step streams every weight whatever the number of tokens). Its cost against
  transformers' step is in bench/README.md. The batched scorer (``gencomp.llm.scoring``)
  runs the same forward pass on its own copy of the weights, prepacked for oneDNN
  (``scoring_weights``).
- ``TransformersSteps`` for every other model: the model's own forward on a DynamicCache.

A cache entry is a tensor ``[layers, 2 (keys, values), kv_heads, positions, head_dim]``.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from transformers import DynamicCache

from gencomp.llm.loading import LoadedModel

FUSED_VERSION = 1  # in the fingerprint: bump when the fused step's arithmetic changes


class TransformersSteps:
    """The model's own forward pass on a ``DynamicCache``."""

    name = "transformers"
    runs_trees = False  # no run_tree: the predictor steps token ends one by one

    def __init__(self, loaded: LoadedModel) -> None:
        self.model = loaded.model
        self.device = loaded.device
        self.cache = DynamicCache(config=self.model.config)
        self.length = 0

    def crop(self, length: int) -> None:
        """Keep the first ``length`` positions."""
        if length == 0:
            self.cache = DynamicCache(config=self.model.config)
        elif length < self.length:
            self.cache.crop(length - self.length)
        self.length = length

    @torch.inference_mode()
    def append(self, kv: torch.Tensor) -> None:
        """Put stored entries after the cached positions."""
        for layer, entry in enumerate(kv):
            self.cache.update(entry[0].unsqueeze(0), entry[1].unsqueeze(0), layer)
        self.length += kv.shape[3]

    @torch.inference_mode()
    def run(self, tokens: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits after the last token, the new tokens' cache entries)."""
        ids = torch.tensor([tokens], device=self.device)
        logits = self.model(input_ids=ids, cache=self.cache, use_cache=True).logits[0, -1]
        start, self.length = self.length, self.length + len(tokens)
        kv = torch.stack([torch.stack((layer.keys[0, :, start:], layer.values[0, :, start:])) for layer in self.cache.layers])
        return logits, kv


class LlamaSteps:
    """A Llama decoder step on fused, transposed weights and a pre-allocated cache."""

    name = f"fused-llama{FUSED_VERSION}"
    runs_trees = True

    def __init__(self, loaded: LoadedModel) -> None:
        self.loaded = loaded
        self.cache: torch.Tensor | None = None  # made, with the weights, by the first step
        self.length = 0

    @property
    def w(self) -> _FusedLlama:
        """The fused weights, built once per loaded model (a predictor that never steps,
        as llm_scoring's, never pays for them)."""
        if self.loaded.step_weights is None:
            self.loaded.step_weights = _FusedLlama(self.loaded.model)
        return self.loaded.step_weights

    def crop(self, length: int) -> None:
        self.length = length

    @torch.inference_mode()  # the cache is made in a step, so it is an inference tensor
    def append(self, kv: torch.Tensor) -> None:
        end = self.length + kv.shape[3]
        self._reserve(end)
        self.cache[:, :, :, self.length : end] = kv
        self.length = end

    def _reserve(self, length: int) -> None:
        """Double the cache's capacity until ``length`` positions fit."""
        if self.cache is None:
            self.cache = self.w.new_cache(256)
        capacity = self.cache.shape[3]
        if length > capacity:
            while capacity < length:
                capacity *= 2
            bigger = self.w.new_cache(capacity)
            bigger[:, :, :, : self.length] = self.cache[:, :, :, : self.length]
            self.cache = bigger

    @torch.inference_mode()
    def run(self, tokens: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        start, end = self.length, self.length + len(tokens)
        mask = None if len(tokens) == 1 or start == 0 else self.w.causal_mask(len(tokens), end)
        logits, kv = self._run(tokens, torch.arange(start, end), mask, slice(-1, None))
        return logits[0], kv

    @torch.inference_mode()
    def run_tree(self, tokens: list[int], positions: torch.Tensor, mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Run ``tokens`` at ``positions``, each attending to the cached and new slots
        ``mask`` allows (None: all cached ones and the causal new ones); returns the logits
        after every token and their cache entries."""
        return self._run(tokens, positions, mask, slice(None))

    def _run(self, tokens: list[int], positions: torch.Tensor, mask: torch.Tensor | None, rows: slice) -> tuple[torch.Tensor, torch.Tensor]:
        start, end = self.length, self.length + len(tokens)
        self._reserve(end)
        ids = torch.tensor(tokens, device=self.w.device)
        mask = None if mask is None else mask.to(self.w.device)
        logits = self.w.forward(ids, positions.to(self.w.device), self.cache, start, mask, rows)
        self.length = end
        return logits, self.cache[:, :, :, start:end].clone()


def scoring_weights(loaded: LoadedModel) -> _FusedLlama:
    """The fused weights for batched scoring, built once per loaded model: prepacked for
    oneDNN where it runs on this device (:func:`packable`): a pass of 4-16 tokens runs
    1.2-1.4x as fast, a whole chunk 1.1-1.3x (bench/README.md). The step path keeps its
    plain products, whose floats the files it writes depend on."""
    if loaded.scoring_weights is None:
        loaded.scoring_weights = _FusedLlama(loaded.model, packed=packable(loaded.device, loaded.dtype))
    return loaded.scoring_weights


def packable(device: torch.device, dtype: torch.dtype) -> bool:
    """Whether oneDNN's prepacked linear runs here: on a CPU, in float32 or bfloat16."""
    return (
        device.type == "cpu"
        and dtype in (torch.float32, torch.bfloat16)
        and torch.backends.mkldnn.is_available()
        and hasattr(torch.ops.mkldnn, "_reorder_linear_weight")
    )


class _FusedLlama:
    """A Llama model's weights, fused (q/k/v, gate/up) and laid out for fast products:
    transposed, or prepacked for oneDNN (``packed``); and its forward pass."""

    def __init__(self, model: Any, packed: bool = False) -> None:
        config = model.config
        self.heads, self.kv_heads = config.num_attention_heads, config.num_key_value_heads
        self.head_dim = getattr(config, "head_dim", None) or config.hidden_size // self.heads
        self.hidden = config.intermediate_size
        self.eps = config.rms_norm_eps
        self.device = model.lm_head.weight.device
        theta = (getattr(config, "rope_parameters", None) or {}).get("rope_theta") or config.rope_theta
        steps = torch.arange(0, self.head_dim, 2, dtype=torch.float32, device=self.device)
        self.inv_freq = 1.0 / theta ** (steps / self.head_dim)
        self.packed = packed

        def fused(*linears: Any) -> torch.Tensor:
            weight = torch.cat([m.weight.detach() for m in linears])  # [out, in]
            return torch.ops.mkldnn._reorder_linear_weight(weight, None) if packed else weight.t().contiguous()

        with torch.no_grad():
            self.layers = [
                (
                    layer.input_layernorm.weight.detach(),
                    fused(layer.self_attn.q_proj, layer.self_attn.k_proj, layer.self_attn.v_proj),
                    fused(layer.self_attn.o_proj),
                    layer.post_attention_layernorm.weight.detach(),
                    fused(layer.mlp.gate_proj, layer.mlp.up_proj),
                    fused(layer.mlp.down_proj),
                )
                for layer in model.model.layers
            ]
            self.embed = model.model.embed_tokens.weight.detach()
            self.norm = model.model.norm.weight.detach()
            self.head = fused(model.lm_head)
        self.dtype = self.head.dtype

    def product(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """``x`` times one of this model's laid-out matrices."""
        if self.packed:
            return torch.ops.mkldnn._linear_pointwise(x, weight, None, "none", [], "")
        return x @ weight

    def new_cache(self, capacity: int) -> torch.Tensor:
        shape = (len(self.layers), 2, self.kv_heads, capacity, self.head_dim)
        return torch.empty(shape, dtype=self.dtype, device=self.device)  # slots are written before read

    def _norm(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """RMSNorm in float32, as transformers computes it."""
        x32 = x.float()
        return weight * (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)).to(x.dtype)

    def _rope(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        half = self.head_dim // 2
        return x * cos + torch.cat((-x[..., half:], x[..., :half]), dim=-1) * sin

    def forward(
        self, ids: torch.Tensor, positions: torch.Tensor, cache: torch.Tensor, start: int, mask: torch.Tensor | None, rows: slice
    ) -> torch.Tensor:
        """Run ``ids`` at ``positions`` into cache slots ``start``… (filled in) under the
        attention ``mask`` (None: every cached slot, and causal among the new tokens);
        returns the logits after the tokens ``rows`` picks."""
        return self.product(self.final_states(ids, positions, cache, start, mask, rows), self.head)

    def final_states(
        self,
        ids: torch.Tensor,
        positions: torch.Tensor,
        cache: torch.Tensor,
        start: int,
        mask: torch.Tensor | None,
        rows: slice,
        columns: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """As :meth:`forward`, the final normed hidden states instead of the logits (the
        logits are ``hidden @ head``; a batched scorer makes them a block at a time).
        ``columns``: the cache slots attended over (in the mask's column order, the new
        tokens' among them), where that is far fewer than all before ``end``."""
        n, h, kvh, d = len(ids), self.heads, self.kv_heads, self.head_dim
        end = start + n
        angles = torch.outer(positions.float(), self.inv_freq)
        angles = torch.cat((angles, angles), dim=-1)
        cos, sin = angles.cos().to(self.dtype), angles.sin().to(self.dtype)
        x = self.embed[ids]
        for i, (norm1, qkv, out, norm2, gate_up, down) in enumerate(self.layers):
            y = self.product(self._norm(x, norm1), qkv)
            q = y[:, : h * d].view(n, h, d).transpose(0, 1)
            k = y[:, h * d : (h + kvh) * d].view(n, kvh, d).transpose(0, 1)
            cache[i, 0, :, start:end] = self._rope(k, cos, sin)
            cache[i, 1, :, start:end] = y[:, (h + kvh) * d :].view(n, kvh, d).transpose(0, 1)
            # index_select: half the time of indexing with the tensor (bench/README.md)
            keys, values = (cache[i, 0, :, :end], cache[i, 1, :, :end]) if columns is None else cache[i].index_select(2, columns)
            attended = F.scaled_dot_product_attention(
                self._rope(q, cos, sin).unsqueeze(0),
                keys.unsqueeze(0),
                values.unsqueeze(0),
                attn_mask=mask,
                is_causal=mask is None and n > 1,  # only with an empty cache (see LlamaSteps.run)
                enable_gqa=True,
            )
            x = x + self.product(attended[0].transpose(0, 1).reshape(n, h * d), out)
            y = self.product(self._norm(x, norm2), gate_up)
            x = x + self.product(F.silu(y[:, : self.hidden]) * y[:, self.hidden :], down)
        return self._norm(x[rows], self.norm)

    def causal_mask(self, n: int, end: int) -> torch.Tensor:
        """Causal mask for ``n`` new tokens after ``end - n`` cached ones."""
        return torch.ones(n, end, dtype=torch.bool, device=self.device).tril(end - n)


def supports_fused(config: Any) -> bool:
    """A plain Llama: no biases, SiLU, unscaled RoPE, no tensor-parallel split."""
    rope = getattr(config, "rope_parameters", None) or {}
    return (
        getattr(config, "model_type", "") == "llama"
        and not getattr(config, "attention_bias", False)
        and not getattr(config, "mlp_bias", False)
        and getattr(config, "hidden_act", "") == "silu"
        and rope.get("rope_type", "default") == "default"
        and getattr(config, "pretraining_tp", 1) == 1
    )


def new_steps(loaded: LoadedModel) -> LlamaSteps | TransformersSteps:
    """The fastest step this model supports."""
    return LlamaSteps(loaded) if supports_fused(loaded.model.config) else TransformersSteps(loaded)


class TreeSteps:
    """Model steps for the nodes of a tree of token sequences (``gencomp.llm.beam.Node``:
    ``token``, ``parent``, ``depth``, stored ``kv``, ``path()``). The step cache holds
    one path at a time, moved by cropping and refilling stored keys and values."""

    def __init__(self, loaded: LoadedModel, kv_cache: bool = True) -> None:
        self.steps = new_steps(loaded)
        self.kv_cache = kv_cache  # False: every step recomputes its whole sequence
        self.path: list[Any] = []  # the nodes the cache holds
        self.passes = 0  # forward passes run

    def run(self, chain: list[Any]) -> torch.Tensor:
        """Run ``chain``'s tokens after their parent's path; store their keys and values.
        Returns the logits after the last token."""
        self.passes += 1
        if not self.kv_cache:
            self.load(None)
            return self.steps.run([n.token for n in chain[-1].path()])[0]
        self.load(chain[0].parent)
        logits, kv = self.steps.run([n.token for n in chain])
        if chain[0].kv is not None:  # a recomputation: the stored entries stay the truth
            self.steps.crop(len(self.path))
            return logits
        for i, node in enumerate(chain):
            node.kv = kv[:, :, :, i : i + 1]
        self.path = self.path + chain
        return logits

    def run_tree(self, nodes: list[Any]) -> torch.Tensor:
        """Run one new token after each node's parent in one pass: the cache holds the
        parents' common path, then the rest of each parent's path once; each token sees
        the common path, its parent's rest and itself. Stores their keys and values;
        returns the logits after each."""
        self.passes += 1
        paths = [n.parent.path() for n in nodes]
        common = 0
        while all(len(p) > common and p[common] is paths[0][common] for p in paths):
            common += 1
        self.load(paths[0][common - 1])
        rest = list({id(n): n for p in paths for n in p[common:]}.values())
        slot = {id(n): common + i for i, n in enumerate(rest)}
        if rest:
            self.steps.append(torch.cat([n.kv for n in rest], dim=3))
        mask = torch.zeros(len(nodes), common + len(rest) + len(nodes), dtype=torch.bool)
        mask[:, :common] = True
        for i, path in enumerate(paths):
            mask[i, [slot[id(n)] for n in path[common:]] + [common + len(rest) + i]] = True
        positions = torch.tensor([n.depth - 1 for n in nodes])
        logits, kv = self.steps.run_tree([n.token for n in nodes], positions, mask)
        for i, node in enumerate(nodes):
            node.kv = kv[:, :, :, i : i + 1]
        self.steps.crop(common)  # the cache holds the common path again
        return logits

    def load(self, parent: Any) -> None:
        """Make the cache hold exactly ``parent``'s path (stored entries, no compute)."""
        path = parent.path() if parent is not None else []
        common = 0
        for have, want in zip(self.path, path):
            if have is not want:
                break
            common += 1
        self.steps.crop(common)
        self.path = self.path[:common]
        if len(path) > common:
            self.steps.append(torch.cat([n.kv for n in path[common:]], dim=3))
            self.path = path

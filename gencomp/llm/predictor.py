"""A causal language model as a next-byte predictor.

The model predicts tokens; the predictor marginalises over them (``gencomp.llm.vocabulary`` has
the tables) and over a beam of tokenisations of the bytes seen so far, since in BPE a
prefix of a token is often not a token. A hypothesis h is (committed tokens T, pending
bytes s, weight P(T) · M_T(s)), M_T(u) the mass of the tokens whose bytes start with u:

    p(b | h) = [ M_T(s·b) + q(tok(s) | T) · M_T'(b) / M_T'("") ] / M_T(s),   T' = T + tok(s)

(the pending token goes on with b, or ends at s and the next one starts with b); p(b) is
the weighted mean over the ``BEAM`` heaviest hypotheses, mixed with ``FLOOR`` of the
uniform distribution so that every byte stays codable. A byte with no beam mass restarts
the beam from its heaviest hypothesis.

Each node of the tree of token sequences keeps its own keys and values; a model step
loads its parent's path into one cache (``gencomp.llm.step``) and runs the new token, so
the coder's left-to-right calls cost about one step per token hypothesis; the token ends
one byte's distribution needs share one tree pass where the step supports it (the
result then depends on which ends were batched: deterministic, and in the fingerprint's
``step=``). A sequence holding less
than ``STEP_MIN`` of the beam is scored with its nearest computed ancestor's
distributions instead. Calls that extend the previous context walk the new bytes; others
anchor afresh (on the last half window when the window is full).

Determinism: a call's result is a function of the calls since the last anchor, so encoder
and decoder get bit-identical arrays; each step runs on a fixed number of torch threads
(``threads``, in the spec and the fingerprint with the CPU's instruction set), since
matrix products split their sums by thread. Measurements: bench/README.md.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import transformers
from transformers import LogitsProcessorList, TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

from gencomp.llm.beam import Hypothesis, Node
from gencomp.llm.vocabulary import ByteVocab
from gencomp.llm.loading import BUNDLED_NAME, LoadedModel, load_transformer, torch_threads
from gencomp.errors import SpecError
from gencomp.llm.step import TreeSteps
from gencomp.predictor import ALPHABET, DEFAULT_CONTEXT_WINDOW, crop, normalize

BEAM = 4  # tokenisation hypotheses kept
FLOOR = 2.0**-12  # weight of the uniform distribution mixed in
STEP_MIN = 0.001  # beam mass below which a new token sequence is scored without a model step
SAMPLE_STEP_MIN = 0.05  # the same for sample_next, where proxies only shape later weights
MAX_WALK = 64  # bytes: a longer extension of the context anchors afresh instead
PLAIN = (1.0, 0, 1.0)  # sampling knobs (temperature, top-k, top-p) that change nothing


class LLMPredictor:
    """Next-byte predictor from a causal LM (see the module docstring for the method).

    Options beyond the registry's: ``kv_cache=False`` recomputes every model step from
    scratch (the tests' reference), ``loaded`` and ``vocab`` reuse an already loaded model
    and its byte tables.
    """

    def __init__(
        self,
        model: str = "",
        device: str = "auto",
        dtype: str = "auto",
        context_window: int = DEFAULT_CONTEXT_WINDOW,
        threads: int = 1,
        *,
        kv_cache: bool = True,
        step_min: float = STEP_MIN,
        loaded: LoadedModel | None = None,
        vocab: ByteVocab | None = None,
    ) -> None:
        if context_window < 2:
            raise SpecError(f"context_window must be at least 2 bytes, got {context_window}")
        self.loaded = loaded or load_transformer(model, device, dtype)
        if threads < 0:
            raise SpecError(f"threads must be >= 0 (0: torch's default), got {threads}")
        self.context_window = context_window
        self.threads = threads
        self.kv_cache = kv_cache
        self.step_min = step_min
        self.model = self.loaded.model
        self.vocab = vocab or ByteVocab(self.loaded.tokenizer)
        config = self.model.config
        self.max_tokens = int(getattr(config, "max_position_embeddings", 0) or 2048)
        self.bos = self.vocab.start  # <|endoftext|>, else BOS, else EOS (vocabulary.py)
        self._root = Node(None, self.bos)  # every token sequence starts here
        self._tree = TreeSteps(self.loaded, kv_cache)  # model steps on the tree's sequences
        self._beam: list[Hypothesis] = []
        self._seen = b""  # bytes the beam has consumed since its anchor
        self._context = b""  # the last call's (cropped) context
        self._result: np.ndarray | None = None
        self._knobs = PLAIN  # what the tree's next-token probabilities are warped by
        self._warp: LogitsProcessorList | None = None

    @property
    def model_steps(self) -> int:
        """Forward passes run (for benchmarks)."""
        return self._tree.passes

    @property
    def spec(self) -> str:
        model = "" if self.loaded.name == BUNDLED_NAME else f"{self.loaded.name},"
        return (
            f"llm:{model}device={self.loaded.device.type},"
            f"dtype={str(self.loaded.dtype).removeprefix('torch.')},"
            f"context_window={self.context_window},threads={self.threads}"
        )

    @property
    def fingerprint(self) -> str:
        """What else the numbers depend on: the weights, the libraries, the method's constants."""
        return (
            f"llm {self.loaded.weights} torch {torch.__version__} transformers {transformers.__version__} "
            f"cpu={torch.backends.cpu.get_cpu_capability()} threads={self.threads or 'default'} "
            f"beam={BEAM} floor={FLOOR} step_min={self.step_min} kv_cache={self.kv_cache} escapes=latin1 "
            f"step={self._tree.steps.name}"
        )

    def __repr__(self) -> str:
        return f"<LLMPredictor {self.spec}>"

    # ------------------------------------------------------------------ Predictor

    def logprobs(self, context: bytes) -> np.ndarray:
        self._use_knobs(PLAIN)
        x = crop(bytes(context), self.context_window)
        if self._result is None or x != self._context:
            self._advance(x, lazy=False)
            self._result = self._distribution()
        return self._result.copy()

    def sample_next(
        self, context: bytes, rng: np.random.Generator, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0
    ) -> int:
        """Draw the next byte, paying a model step only when the draw ends a token: the
        branch (which hypothesis; goes on or ends) is drawn first, then the byte. For the
        hypotheses above ``SAMPLE_STEP_MIN`` of the beam the draw is exactly distributed as
        ``logprobs`` with every token end computed; lighter ones, and token ends that were
        not drawn (in the beam's weight update), use the proxy first-byte distribution.
        Three uniforms per byte.

        The knobs act on the model's next-token distributions, as in ``generate()`` (its
        own warpers, after the special tokens are removed; ``temperature=0`` is greedy):
        bytes are then drawn from the warped model, without the floor."""
        self._use_knobs((temperature, top_k, top_p))
        x = crop(bytes(context), self.context_window)
        if self._result is None or x != self._context:
            self._advance(x, lazy=True)
        self._result = None  # the distribution of this context is not computed
        weights = self._fill_cases(lazy=True)
        if self._warp is not None and not any(h.ends > 0.0 or h.goes_on.any() for h in self._beam):
            self._anchor(x)  # every tokenisation left was cut by the knobs: commit to the tokens
            weights = self._fill_cases(lazy=True)
        u, v = rng.random(), rng.random()
        if u < FLOOR and self._warp is None:
            return min(int(v * ALPHABET), ALPHABET - 1)
        parts = [w * h.goes_on for h, w in zip(self._beam, weights)]
        ends = np.array([w * h.ends for h, w in zip(self._beam, weights)])
        on = np.array([part.sum() for part in parts])
        pick = int(np.searchsorted(np.cumsum(np.concatenate([on, ends])), v * (on.sum() + ends.sum()), side="right"))
        pick = min(pick, 2 * len(self._beam) - 1)
        if pick < len(self._beam):
            cdf = np.cumsum(parts[pick])
        else:
            h = self._beam[pick - len(self._beam)]
            self._ensure(h.end_node)
            h.after = h.end_node.first
            cdf = np.cumsum(h.after)
        return min(int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right")), ALPHABET - 1)

    def _use_knobs(self, knobs: tuple[float, int, float]) -> None:
        """Warp the next-token distributions by ``knobs`` from now on; a change drops the
        probabilities computed under the old ones (the keys and values stay)."""
        if knobs == self._knobs:
            return
        temperature, top_k, top_p = knobs
        if temperature == 0:  # greedy
            temperature, top_k = 1.0, 1
        warpers = [TemperatureLogitsWarper(temperature)] if temperature != 1.0 else []
        warpers += [TopKLogitsWarper(top_k)] if top_k > 0 else []
        warpers += [TopPLogitsWarper(top_p)] if top_p < 1.0 else []
        self._knobs, self._warp = knobs, LogitsProcessorList(warpers) if warpers else None
        self._root.p = self._root.first = None
        self._beam, self._result = [], None

    def _advance(self, x: bytes, lazy: bool) -> None:
        """Bring the beam to context ``x``: walk the new bytes, or anchor afresh."""
        new = self._walkable(x)
        if new is None:
            self._anchor(x)
        else:
            for byte in new:
                self._fill_cases(lazy)
                self._observe(byte)
        self._context = x

    def _walkable(self, x: bytes) -> bytes | None:
        """The bytes to walk if ``x`` ends with the seen bytes plus a few new ones, else None."""
        if not self._beam:
            return None
        seen, prev = self._seen, self._context
        for shift in range(0, len(prev) - len(seen) + 1):  # the window may have slid
            if x.startswith(prev[shift:]):
                new = x[len(prev) - shift :]
                depth = max(h.node.depth for h in self._beam)
                if len(new) <= MAX_WALK and depth + 8 * (len(new) + 1) < self.max_tokens:
                    return new
                return None
        return None

    def _anchor(self, x: bytes) -> None:
        """Start a fresh beam on ``x``: all of it, or its last half window when the window
        is full or the tokens would not fit the model."""
        if len(x) >= self.context_window:
            x = x[-(self.context_window // 2) :]
        ids = self.vocab.encode(x)
        while len(ids) + 8 > self.max_tokens:
            x = x[len(x) // 2 :]
            ids = self.vocab.encode(x)
        self._ensure(self._root)  # its own one-token step, whatever follows
        last = self.vocab.token_bytes[ids[-1]] if ids else None
        # the last token stays pending; under knobs the tokens are the context's, as for generate()
        if last and x[-1] not in self.vocab.escapes and self._warp is None:
            node, pending = self._extend(self._root, ids[:-1]), last
        else:
            node, pending = self._extend(self._root, ids), b""
        self._beam = [Hypothesis(node, pending, self.vocab.split(pending), 0.0, node.p, node.first)]
        self._seen = x

    # ------------------------------------------------------------------ the beam

    def _distribution(self) -> np.ndarray:
        """p(next byte) as normalised natural logs; fills each hypothesis' two cases."""
        weights = self._fill_cases()
        mixed = np.zeros(ALPHABET)
        for h, w in zip(self._beam, weights):
            mixed += w * h.goes_on
            if h.ends > 0.0:
                mixed += (w * h.ends) * h.after
        return normalize(np.log((1.0 - FLOOR) * mixed + FLOOR / ALPHABET))

    def _fill_cases(self, lazy: bool = False) -> np.ndarray:
        """p(b | h) as its two cases, for the hypotheses that lack them; returns the
        hypotheses' normalised weights. A token end that is likely enough gets its model
        step (unless ``lazy``: ``sample_next`` steps only for the end it draws); an
        unlikely one is scored with the parent's first-byte distribution instead."""
        weights = np.array([h.logw for h in self._beam])
        weights = np.exp(weights - weights.max())
        weights /= weights.sum()
        step_min = max(self.step_min, SAMPLE_STEP_MIN) if lazy else self.step_min
        for h, w in zip(self._beam, weights):
            if h.goes_on is None:
                if w >= step_min or h.probs is None:
                    self._ensure(h.node)
                if h.node.p is not None:
                    h.probs, h.first = h.node.p, h.node.first
                on, end = ByteVocab.masses(h.probs, h.split)
                total = on.sum() + end
                if total == 0.0:  # only under knobs: they cut every token this one allows
                    h.goes_on, h.ends = on, 0.0
                    continue
                h.goes_on = on / total
                h.ends = end / total
                if end > 0.0:
                    h.end_node = Node(h.node, self.vocab.token_of(h.split))
        if not lazy:
            filling = [(h, w * h.ends >= step_min) for h, w in zip(self._beam, weights) if h.ends > 0.0 and h.after is None]
            self._ensure_all([h.end_node for h, stepped in filling if stepped])
            for h, stepped in filling:
                h.after = h.end_node.first if stepped else h.first
        return weights

    def _observe(self, byte: int) -> None:
        """Move the beam past ``byte`` (the cases must be filled)."""
        children: list[Hypothesis] = []
        for h in self._beam:
            if h.ends > 0.0 and h.after is None:  # an end sample_next did not draw
                h.after = h.first
            if h.goes_on[byte] > 0.0:
                split = self.vocab.child(h.split, byte)
                logw = h.logw + math.log(h.goes_on[byte])
                children.append(Hypothesis(h.node, h.pending + bytes([byte]), split, logw, h.probs, h.first))
            if h.ends > 0.0 and h.after[byte] > 0.0:
                split = self.vocab.child(self.vocab.root, byte)
                logw = h.logw + math.log(h.ends) + math.log(h.after[byte])
                probs = h.end_node.p if h.end_node.p is not None else h.probs
                children.append(Hypothesis(h.end_node, bytes([byte]), split, logw, probs, h.after))
        if children:
            children.sort(key=lambda c: -c.logw)  # stable: ties keep their order
            children = children[:BEAM]
            top = children[0].logw
            for c in children:
                c.logw -= top
        else:
            children = [self._restart(byte)]
        live = {id(c.node) for c in children}
        for h in self._beam:  # free the probabilities no hypothesis needs any more
            for node in (h.node, h.end_node):
                if node is not None and id(node) not in live:
                    node.p = node.first = None
        self._beam = children
        self._seen += bytes([byte])

    def _restart(self, byte: int) -> Hypothesis:
        """The heaviest hypothesis with its pending bytes committed, then ``byte``."""
        h = self._beam[0]
        if byte in self.vocab.escapes:
            node = self._extend(h.node, self.vocab.encode(h.pending) + self.vocab.escapes[byte])
            return Hypothesis(node, b"", self.vocab.root, 0.0, node.p, node.first)
        node = self._extend(h.node, self.vocab.encode(h.pending))
        return Hypothesis(node, bytes([byte]), self.vocab.child(self.vocab.root, byte), 0.0, node.p, node.first)

    # ------------------------------------------------------------------ model steps

    def _extend(self, node: Node, tokens: list[int]) -> Node:
        """The node for ``node``'s tokens + ``tokens``, with its probabilities computed."""
        for token in tokens:
            node = Node(node, token)
        self._ensure(node)
        return node

    def _ensure(self, node: Node) -> None:
        """Compute ``node``'s probabilities if it has none: in one pass over it and its
        ancestors that have no stored keys, or, if its probabilities were freed, by one
        step on its parent's keys (its own stored keys stay as they were)."""
        if node.p is not None:
            return
        chain = [node]
        while self.kv_cache and chain[0].kv is None and chain[0].parent is not None and chain[0].parent.kv is None:
            chain.insert(0, chain[0].parent)
        with torch_threads(self.threads):
            self._set_probs(node, self._tree.run(chain))

    def _ensure_all(self, nodes: list[Node]) -> None:
        """``_ensure`` for several token ends of the beam at once: one forward pass where
        the step runs token trees (the ends' parents computed, their own keys not), since
        a step streams every weight whatever the number of tokens. (A subclass whose
        ``_ensure`` stores no keys, as llm_scoring's, always steps them one by one.)"""
        todo = [n for n in nodes if n.p is None]
        if len(todo) < 2 or not self.kv_cache or not self._tree.steps.runs_trees or any(
            n.kv is not None or n.parent is None or n.parent.kv is None for n in todo
        ):
            for node in todo:
                self._ensure(node)
            return
        with torch_threads(self.threads):
            for node, logits in zip(todo, self._tree.run_tree(todo)):
                self._set_probs(node, logits)

    def _set_probs(self, node: Node, logits: torch.Tensor) -> None:
        node.p, node.first = next_token_probs(logits, self.vocab, self._warp)


def next_token_probs(logits: torch.Tensor, vocab: ByteVocab, warp: LogitsProcessorList | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A node's probabilities from the model's logits: the next token's (in the
    vocabulary's sorted order) and the first byte's."""
    if warp is None:
        p = torch.softmax(logits.double(), dim=-1).cpu().numpy()[vocab.order]
    else:  # the special tokens (no bytes) out first, as generate() would suppress them
        scores = logits.double().cpu()[torch.from_numpy(vocab.order)]
        p = torch.softmax(warp(None, scores[None])[0], dim=-1).numpy()
    first, _ = ByteVocab.masses(p, vocab.root)
    return p, first / first.sum()

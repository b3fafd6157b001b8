"""Code known bytes with a language model in a few batched forward passes.

When every byte is known in advance (evaluation, and the encoder side) the model steps
that :class:`~gencomp.llm.predictor.LLMPredictor` takes one token at a time can be computed
together, and the beam then walks the bytes exactly as it does when coding:

1. **The main line**: one forward pass over the chunk's own tokenisation gives the
   hidden state after every prefix of it, and keeps its keys and values.
2. **A walk**: the beam walks the chunk as in coding. A token sequence it asks for that
   no pass has computed is scored, for now, with the distribution of the main line where
   the sequence's bytes end, when a main-line token ends there too (most such sequences
   are another tokenisation of the same bytes), else with its nearest computed
   ancestor's; the walk notes it with the share of the beam that asked.
3. **Rounds**: the noted sequences asked for with at least ``ROUND_MIN`` of the beam run
   together in one pass (each attending to the main line and its own ancestors), and the
   beam walks again; ``WALKS - 1`` walks in all, fewer when one asks for nothing new.
4. **The last walk** computes each sequence it still lacks there and then, so the code
   is the step-by-step coder's, up to the rounding of batched products. A stand-in is
   not safe even where few of the beam ask for it: it can raise a hypothesis that later
   carries the beam (on random chunks of the bundled text, the code after 4 walks with
   stand-ins differed by -2.8% to +1.3%). Where the first walk lacks more than
   ``EXACT_BUDGET`` sequences per byte (a wide beam: most text, noisy image patches,
   7-bit bytes) batching does not pay and the chunk is coded step by step.

Files are still coded step by step, which a decoder can repeat; this is for rates.
Batched passes run on the fused Llama step (``gencomp.llm.step``); a model without it
is coded step by step here too.
"""

from __future__ import annotations

import bisect
import math
from collections import OrderedDict

import numpy as np
import torch

from gencomp import coding
from gencomp.llm.beam import Node
from gencomp.llm.predictor import LLMPredictor
from gencomp.llm.loading import torch_threads
from gencomp.llm.step import LlamaSteps, supports_fused

LOGIT_BLOCK = 64  # hidden-state rows turned into logits by one matrix product
LOGIT_BLOCKS_KEPT = 16  # blocks of logits kept (each walk moves left to right)
QUERY_BATCH = 1024  # queries per forward pass (bounds the mask's memory)
# cache slots reserved per main-line token: the rounds of a wide beam compute up to about
# 11 sequences per main-line token (measured on noisy image patches); reserved, not
# touched, so memory grows only with what is computed, and the cache is rarely copied
CACHE_PER_TOKEN = 16
ROUND_MIN = 0.02  # share of the beam from which a stood-in sequence runs in the next round
WALKS = 4  # walks at most (see bench/README.md for the rate each adds)
# Sequences a walk stood in for, per byte of the chunk, past which the chunk is coded step
# by step: the last walk computes each one in a pass of its own (about 3x a model step),
# and where the first walk lacks more, the rounds did not bring it under this on any
# chunk measured (bench/README.md: random text chunks lack 0.4-0.7 per byte, some image
# and audio chunks none).
EXACT_BUDGET = 0.1


class _TooWide(Exception):
    """The last walk lacks more sequences than its budget."""

Key = tuple[int, ...]  # a token sequence, start token first


class _Passes:
    """Hidden states of token sequences over one known chunk, from batched passes: the
    main line first, then any sequences, each pass after every computed key and value."""

    def __init__(self, predictor: LLMPredictor, chunk: bytes) -> None:
        self.w = LlamaSteps(predictor.loaded).w  # the fused weights (needs supports_fused)
        self.vocab = predictor.vocab
        self.passes = 0
        # sequence -> its slot: where its last token's keys and values are in the cache and
        # its hidden state among the passes' (both in the order computed)
        self.slots: dict[Key, int] = {}
        self.boundaries: dict[int, int] = {}  # byte offset -> the main-line slot ending there
        self._states: list[torch.Tensor] = []  # final hidden states, one block per pass
        self._starts: list[int] = []  # the first slot of each block
        self._parents: list[int] = []  # slot -> its parent sequence's slot
        self._logits: OrderedDict[tuple[int, int], torch.Tensor] = OrderedDict()
        self._line = self._main_line(predictor.bos, chunk)
        self._cache = self.w.new_cache(CACHE_PER_TOKEN * len(self._line) + QUERY_BATCH)
        self._main_line_pass()

    def _main_line(self, bos: int, chunk: bytes) -> list[int]:
        """The start token and the chunk's own tokenisation; notes where its tokens end
        in the chunk (not inside the escape tokens of a byte that has none)."""
        tokens, line, offset = self.vocab.encode(chunk), [bos], 0
        i = 0
        while i < len(tokens):
            escape = self.vocab.escapes.get(chunk[offset])
            step = escape or [tokens[i]]
            line += step
            offset += 1 if escape else len(self.vocab.token_bytes[tokens[i]] or b"")
            self.boundaries[offset] = len(line) - 1
            i += len(step)
        return line

    def _main_line_pass(self) -> None:
        n = len(self._line)
        keys = [tuple(self._line[: i + 1]) for i in range(n)]
        self.slots.update((key, i) for i, key in enumerate(keys))
        self._parents.extend(range(-1, n - 1))
        self._store(0, self._forward(self._line, torch.arange(n), 0, None))

    def run(self, keys: list[Key]) -> None:
        """Hidden states of ``keys``, in passes of up to about ``QUERY_BATCH`` queries; a
        key's uncomputed ancestors run in the same pass, before it."""
        batch: dict[Key, None] = {}
        for key in keys:
            unit = []
            while key not in self.slots and key not in batch:
                unit.append(key)
                key = key[:-1]
            if batch and len(batch) + len(unit) > QUERY_BATCH:
                self._tree_pass(list(batch))
                batch = {}
            batch.update(dict.fromkeys(reversed(unit)))
        if batch:
            self._tree_pass(list(batch))

    def _tree_pass(self, batch: list[Key]) -> None:
        """One pass of ``batch`` (each key's parent computed or earlier in it) after every
        computed sequence's keys and values: each query attends to its own ancestors."""
        used, n = len(self._parents), len(batch)
        for i, key in enumerate(batch):
            self.slots[key] = used + i
            self._parents.append(self.slots[key[:-1]])
        mask, columns = self._ancestry(used, n)
        if self._cache.shape[3] < used + n:
            cache = self.w.new_cache(max(2 * self._cache.shape[3], used + n))
            cache[:, :, :, :used] = self._cache[:, :, :, :used]
            self._cache = cache
        positions = torch.tensor([len(key) - 1 for key in batch])
        self._store(used, self._forward([key[-1] for key in batch], positions, used, mask, columns))

    def _ancestry(self, used: int, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The attention mask of the ``n`` queries from slot ``used`` on, and the slots
        its columns stand for: the main line, then the off-line ancestors of these
        queries only, not every sequence computed so far (late rounds have several times
        the main line's)."""
        line, parents = len(self._line), np.array(self._parents)
        queries, current = np.arange(n), np.arange(used, used + n)
        prefixes = np.empty(n, dtype=np.int64)  # each query's main-line prefix
        rows, off_line = [], []
        while len(queries):  # follow the parents off the main line, all queries at once
            on_line = current < line
            prefixes[queries[on_line]] = current[on_line] + 1
            queries, current = queries[~on_line], current[~on_line]
            rows.append(queries)
            off_line.append(current)
            current = parents[current]
        rows_at, slots = np.concatenate(rows), np.concatenate(off_line)
        others = np.unique(slots)
        mask = torch.arange(line + len(others)) < torch.from_numpy(prefixes)[:, None]
        mask[torch.from_numpy(rows_at), torch.from_numpy(line + np.searchsorted(others, slots))] = True
        return mask, torch.cat((torch.arange(line), torch.from_numpy(others)))

    @torch.inference_mode()
    def _forward(
        self, tokens: list[int], positions: torch.Tensor, start: int, mask: torch.Tensor | None, columns: torch.Tensor | None = None
    ) -> torch.Tensor:
        self.passes += 1
        ids = torch.tensor(tokens, device=self.w.device)
        mask = None if mask is None else mask.to(self.w.device)
        columns = None if columns is None else columns.to(self.w.device)
        return self.w.final_states(ids, positions.to(self.w.device), self._cache, start, mask, slice(None), columns)

    def _store(self, start: int, states: torch.Tensor) -> None:
        self._starts.append(start)
        self._states.append(states)

    def state(self, slot: int) -> torch.Tensor:
        """The final hidden state of the sequence in ``slot``."""
        block = bisect.bisect_right(self._starts, slot) - 1
        return self._states[block][slot - self._starts[block]]

    def logits(self, slot: int) -> torch.Tensor:
        """Logits of the sequence in ``slot``, computed with its neighbours in one matrix
        product."""
        block = bisect.bisect_right(self._starts, slot) - 1
        row = slot - self._starts[block]
        part = (block, row // LOGIT_BLOCK)
        logits = self._logits.get(part)
        if logits is None:
            start = part[1] * LOGIT_BLOCK
            with torch.inference_mode():
                logits = self._states[block][start : start + LOGIT_BLOCK] @ self.w.head
            self._logits[part] = logits
            if len(self._logits) > LOGIT_BLOCKS_KEPT:
                self._logits.popitem(last=False)
        else:
            self._logits.move_to_end(part)
        return logits[row % LOGIT_BLOCK]


class _Walk(LLMPredictor):
    """The predictor's beam over a known chunk, its model steps answered from ``passes``;
    a sequence they lack is stood in for (see the module docstring) and noted in
    ``missing`` with the largest share of the beam that asked for it."""

    def __init__(self, predictor: LLMPredictor, passes: _Passes, budget: float | None = None) -> None:
        super().__init__(loaded=predictor.loaded, vocab=predictor.vocab, context_window=predictor.context_window, step_min=predictor.step_min)
        self.passes = passes
        # the last walk computes what it lacks there and then, up to ``budget`` sequences
        self.budget = budget
        self.computed = 0
        self.missing: dict[Key, float] = {}
        # id(node) -> (node, its tokens, the slot that scores it); the node is kept so
        # that its id is not reused
        self._located: dict[int, tuple[Node, Key, int]] = {}

    def _ensure(self, node: Node) -> None:
        if node.p is not None:
            return
        key, where = self._locate(node)
        if key not in self.passes.slots:
            end, share = self._asked_by(node)
            if self.budget is not None:
                self.computed += 1
                if self.computed > self.budget:
                    raise _TooWide
                self.passes.run([key])
                where = self.passes.slots[key]
            else:
                self.missing[key] = max(share, self.missing.get(key, 0.0))
                where = self.passes.boundaries.get(end, where)
        self._set_probs(node, self.passes.logits(where))

    def _asked_by(self, node: Node) -> tuple[int, float]:
        """Where the bytes of ``node`` end and the share of the beam that asks for it (the
        hypothesis whose tokens it is, or whose pending token it ends); a beam starting
        afresh (a restart) asks with all its weight at the bytes seen."""
        if not self._beam:
            return len(self._seen), 1.0
        logw = np.array([h.logw for h in self._beam])
        weights = np.exp(logw - logw.max())
        weights /= weights.sum()
        for h, weight in zip(self._beam, weights):
            if node is h.node:
                return len(self._seen) - len(h.pending), weight
            if node is h.end_node:
                return len(self._seen), weight * h.ends
        return len(self._seen), 1.0

    def _locate(self, node: Node) -> tuple[Key, int]:
        """``node``'s tokens and the slot that scores it: its own, or its nearest computed
        ancestor's."""
        chain = []
        walker: Node | None = node
        while walker is not None and id(walker) not in self._located:
            chain.append(walker)
            walker = walker.parent
        key, where = self._located[id(walker)][1:] if walker is not None else ((), None)
        for step in reversed(chain):
            key = (*key, step.token)
            where = self.passes.slots.get(key, where)
            self._located[id(step)] = (step, key, where)
        return key, where


def encode_chunk(predictor: LLMPredictor, chunk: bytes, advance: coding.Advance | None = None, walks: int = WALKS) -> coding.CodedChunk:
    """The code :func:`gencomp.coding.encode_chunk` writes for ``chunk``, up to the
    rounding of batched passes: ``walks - 1`` walks with stand-ins and their rounds, then
    a walk that computes what it still lacks. Where that is too much (a wide beam) the
    chunk is coded step by step, as are a chunk longer than the window (it would slide
    it, which the passes do not do) and any chunk of a model without the fused step."""
    batched = supports_fused(predictor.loaded.model.config)
    if len(chunk) > predictor.context_window or not chunk or not predictor.kv_cache or not batched:
        return coding.encode_chunk(predictor, chunk, advance)
    with torch_threads(predictor.threads):
        passes = _Passes(predictor, chunk)
        exact = False  # nothing stood in for
        for walk_number in range(1, walks):
            walk = _Walk(predictor, passes)
            coded = coding.encode_chunk(walk, chunk)
            if walk_number == 1 and len(walk.missing) > EXACT_BUDGET * len(chunk):
                return coding.encode_chunk(predictor, chunk, advance)
            exact = not walk.missing
            wanted = [key for key, share in walk.missing.items() if share >= ROUND_MIN]
            if exact or not wanted:
                break
            passes.run(wanted)
        if not exact:
            try:
                coded = coding.encode_chunk(_Walk(predictor, passes, budget=EXACT_BUDGET * len(chunk)), chunk)
            except _TooWide:
                return coding.encode_chunk(predictor, chunk, advance)
    if advance:
        advance(len(chunk))
    return coded


@torch.inference_mode()
def token_level_bits(predictor: LLMPredictor, data: bytes, text_only: bool = False) -> float:
    """The model's own cross-entropy of ``data`` in bits: −Σ log2 q(token) over its
    tokenisation (as ``vocab.encode`` gives it), after the start token, in one pass.
    ``text_only`` renormalises q over the tokens that have bytes, as the byte model
    does (it conditions on the text going on, so it never pays for an end of text)."""
    ids = [predictor.bos, *predictor.vocab.encode(data)]
    tensor = torch.tensor([ids], device=predictor.loaded.device)
    logits = predictor.model(input_ids=tensor, use_cache=False).logits[0, :-1].double()
    if text_only:
        special = [i for i, b in enumerate(predictor.vocab.token_bytes) if b is None]
        logits[:, special] = -math.inf
    logq = torch.log_softmax(logits, dim=-1)
    return float(-logq[torch.arange(len(ids) - 1), tensor[0, 1:]].sum() / math.log(2))

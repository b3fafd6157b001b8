"""Code known bytes with a language model in a few batched forward passes.

When every byte is known in advance (evaluation, and the encoder side) the model steps
that :class:`~gencomp.llm.predictor.LLMPredictor` takes one token at a time can be computed
together, and the beam then walks the bytes exactly as it does when coding:

1. **The main line**: one forward pass over the chunk's own tokenisation gives the
   hidden state after every prefix of it, and keeps its keys and values.
2. **The walk**: the beam walks the chunk as in coding, its model steps answered from the
   passes. A token sequence it asks for that no pass has computed (another tokenisation
   of the bytes, a token ending early) is computed there and then, so the code is the
   step-by-step coder's, up to the rounding of batched products.
3. **Speculation**: so that a miss does not cost a pass of its own, a speculative walk
   first runs ahead from a copy of the beam for up to ``LOOKAHEAD`` bytes, standing in
   for what it lacks with the main line's distribution where the sequence's bytes end
   (most such sequences are another tokenisation of the same bytes), and everything it
   lacked runs in one pass with the miss. Its stand-ins only choose what to compute: the
   walk's numbers are all computed ones. (Stand-ins in the code itself moved random 2 KB
   text chunks by up to 2.8%: a hypothesis they raise can carry the beam later.)
   Speculated sequences more than a depth of tokens past anything computed are left out:
   in a wide beam (7-bit image bytes) the stand-ins keep whole chains alive that the real
   beam drops.
   The depth adapts: it doubles (up to ``MAX_SPECULATION_DEPTH``) when the walk misses a
   sequence the last speculation saw but left out as too deep, and halves (down to
   ``SPECULATION_DEPTH``) when it misses one the speculation never saw. The look-ahead
   adapts too: it halves (down to ``MIN_LOOKAHEAD``) when the walk misses again within a
   quarter of it, and doubles back when the walk gets half of it past the last miss (on
   silent 7-bit speech the walk misses every ~6 bytes whatever the look-ahead, and rows
   speculated 8 bytes on were used 40% of the time; on text it runs ~30 bytes a miss).

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
from gencomp.llm.beam import Hypothesis, Node
from gencomp.llm.predictor import LLMPredictor, next_token_probs
from gencomp.llm.loading import torch_threads
from gencomp.llm.step import scoring_weights, supports_fused

LOGIT_BLOCK = 64  # hidden-state rows turned into logits by one matrix product
LOGIT_BLOCKS_KEPT = 16  # blocks of logits kept (about 200 MB; 16-row blocks, 64 kept, did no better)
# slots whose probabilities are kept (about 200 MB): without, the speculative walks made
# every logit block 7 times over on a speech chunk (755 blocks for 6,499 rows, 30% of the time)
PROBS_KEPT = 512
QUERY_BATCH = 1024  # queries per forward pass (bounds the mask's memory)
# cache slots reserved per main-line token: a wide beam computes up to about
# 11 sequences per main-line token (measured on noisy image patches); reserved, not
# touched, so memory grows only with what is computed, and the cache is rarely copied
CACHE_PER_TOKEN = 16
# Measured on evaluate's first text chunk (2 KB, 1 thread): a miss speculated 64 bytes
# ahead took 52 passes and 2,548 rows where 32 bytes took 82 and 2,439, and 16 took 142.
# Speculated sequences kept however deep, a wide 7-bit image chunk ran 72,681 rows (5 B/s,
# the step path's 10); kept up to 3 tokens past computed ones, 12 B/s; 8 did as well on
# images and speech and 1.2-1.5x better than 4 on text (bench/README.md).
# Fixed depths on evaluate's first chunks (2 KB, 1 thread): text 104 B/s at 8 tokens, 140
# at 24; speech 36 at 8, 54 at 64 (48 passes instead of 197); a 7-bit image patch 20 at 8,
# 10 at 24 (54,104 rows for the 8,018 the walk uses). Adapting: 155 / 48 / 21 B/s.
# Look-ahead (bfloat16, 2 KB, side by side): fixed 64 against adapting from 64 to 16,
# 7-bit speech 88.6 / 69.3 s and 66.0 / 61.7, 7-bit patches 42.9 / 46.9, 81.4 / 72.3 and
# 37.4 / 32.3, 8-bit speech 46.7 / 39.4, text 12.1 / 12.7 (bench/README.md).
LOOKAHEAD = 64  # bytes a speculative walk runs ahead of a miss, at most
MIN_LOOKAHEAD = 16  # ... and at least
SPECULATION_DEPTH = 8  # tokens past the computed ones a speculated sequence may be, at least
MAX_SPECULATION_DEPTH = 64  # ... and at most


Key = tuple[int, ...]  # a token sequence, start token first


class _Passes:
    """Hidden states of token sequences over one known chunk, from batched passes: the
    main line first, then any sequences, each pass after every computed key and value."""

    def __init__(self, predictor: LLMPredictor, chunk: bytes) -> None:
        self.w = scoring_weights(predictor.loaded)  # (needs supports_fused)
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
        self._probs: OrderedDict[int, tuple[np.ndarray, np.ndarray]] = OrderedDict()
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
        others, prefix = np.unique(slots), int(prefixes.max())  # the main line past every prefix is masked: left out
        mask = torch.arange(prefix + len(others)) < torch.from_numpy(prefixes)[:, None]
        mask[torch.from_numpy(rows_at), torch.from_numpy(prefix + np.searchsorted(others, slots))] = True
        return mask, torch.cat((torch.arange(prefix), torch.from_numpy(others)))

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

    def probabilities(self, slot: int) -> tuple[np.ndarray, np.ndarray]:
        """The next-token and first-byte probabilities after the sequence in ``slot``
        (``LLMPredictor``'s node probabilities), kept for the ``PROBS_KEPT`` slots read
        last: the speculative walks read each slot several times."""
        kept = self._probs.get(slot)
        if kept is None:
            kept = self._probs[slot] = next_token_probs(self._logits_of(slot), self.vocab)
            if len(self._probs) > PROBS_KEPT:
                self._probs.popitem(last=False)
        else:
            self._probs.move_to_end(slot)
        return kept

    def _logits_of(self, slot: int) -> torch.Tensor:
        """Logits of the sequence in ``slot``, computed with its neighbours in one matrix
        product."""
        block = bisect.bisect_right(self._starts, slot) - 1
        row = slot - self._starts[block]
        part = (block, row // LOGIT_BLOCK)
        logits = self._logits.get(part)
        if logits is None:
            start = part[1] * LOGIT_BLOCK
            with torch.inference_mode():
                logits = self.w.product(self._states[block][start : start + LOGIT_BLOCK], self.w.head)
            self._logits[part] = logits
            if len(self._logits) > LOGIT_BLOCKS_KEPT:
                self._logits.popitem(last=False)
        else:
            self._logits.move_to_end(part)
        return logits[row % LOGIT_BLOCK]


class _Walk(LLMPredictor):
    """The predictor's beam over a known chunk, its model steps answered from ``passes``;
    subclasses say what a sequence the passes lack gets (:meth:`_lacking`)."""

    def __init__(self, predictor: LLMPredictor, passes: _Passes, chunk: bytes) -> None:
        super().__init__(loaded=predictor.loaded, vocab=predictor.vocab, context_window=predictor.context_window, step_min=predictor.step_min)
        self.passes, self.chunk = passes, chunk
        # id(node) -> (node, its tokens, the slot that scores it); the node is kept so
        # that its id is not reused
        self._located: dict[int, tuple[Node, Key, int]] = {}

    def _ensure(self, node: Node) -> None:
        if node.p is not None:
            return
        key, where = self._locate(node)
        if key not in self.passes.slots:
            where = self._lacking(node, key, where)
        node.p, node.first = self.passes.probabilities(where)

    def _lacking(self, node: Node, key: Key, ancestor: int) -> int:
        """The slot whose distribution ``node`` (tokens ``key``, not computed) gets;
        ``ancestor`` is its nearest computed ancestor's."""
        raise NotImplementedError

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


class _ExactWalk(_Walk):
    """The walk whose code is the step path's: a lacked sequence is computed, in one pass
    with what a :class:`_Speculation` from here lacks over the next ``LOOKAHEAD`` bytes."""

    def __init__(self, predictor: LLMPredictor, passes: _Passes, chunk: bytes) -> None:
        super().__init__(predictor, passes, chunk)
        self.depth = SPECULATION_DEPTH
        self.lookahead = LOOKAHEAD
        self._beyond: set[Key] = set()  # what the last speculation left out as too deep
        self._missed_at = 0  # where the walk last missed

    def _lacking(self, node: Node, key: Key, ancestor: int) -> int:
        if key in self._beyond:  # the walk went where the speculation saw but did not reach
            self.depth = min(2 * self.depth, MAX_SPECULATION_DEPTH)
        elif self.depth > SPECULATION_DEPTH:  # the speculation went astray: rows past it would be lost
            self.depth //= 2
        start = len(self._seen)
        if start > self._missed_at:
            advanced, self._missed_at = start - self._missed_at, start
            if advanced >= self.lookahead // 2:
                self.lookahead = min(2 * self.lookahead, LOOKAHEAD)
            elif advanced < self.lookahead // 4:
                self.lookahead = max(self.lookahead // 2, MIN_LOOKAHEAD)
        ahead = _Speculation(self, key)
        if self._beam:  # none while anchoring
            for byte in self.chunk[start : start + self.lookahead]:
                ahead._fill_cases()
                ahead._observe(byte)
        self.passes.run([key, *ahead.lacked])
        self._beyond = ahead.beyond
        return self.passes.slots[key]


class _Speculation(_Walk):
    """A walk from a copy of ``walk``'s beam that stands in for what the passes lack with
    the main line's distribution where the sequence's bytes end (else its nearest computed
    ancestor's), and notes it in ``lacked`` unless it is more than ``SPECULATION_DEPTH``
    tokens past the computed ones or ``miss`` (which is about to be)."""

    def __init__(self, walk: _ExactWalk, miss: Key) -> None:
        super().__init__(walk, walk.passes, walk.chunk)  # a walk has the predictor's model and settings
        self.miss, self.depth = miss, walk.depth
        self.lacked: dict[Key, None] = {}
        self.beyond: set[Key] = set()
        self._located = dict(walk._located)
        # new nodes in place of the beam's own, so that the stand-ins stay on this walk's
        self._beam = [Hypothesis(_copy(h.node), h.pending, h.split, h.logw, h.probs, h.first) for h in walk._beam]
        self._seen, self._context = walk._seen, walk._context

    def _lacking(self, node: Node, key: Key, ancestor: int) -> int:
        if self._within_reach(key):
            self.lacked[key] = None
        else:
            self.beyond.add(key)
        return self.passes.boundaries.get(self._bytes_end(node), ancestor)

    def _within_reach(self, key: Key) -> bool:
        parent = key[:-1]
        for _ in range(self.depth):
            if parent in self.passes.slots or parent == self.miss:
                return True
            parent = parent[:-1]
        return False

    def _bytes_end(self, node: Node) -> int:
        """Where in the chunk the bytes of ``node`` end: a hypothesis' committed tokens
        end before its pending bytes; a token end, at the bytes seen."""
        for h in self._beam:
            if node is h.node:
                return len(self._seen) - len(h.pending)
        return len(self._seen)


def _copy(node: Node) -> Node:
    """A new node for the same tokens, with the same probabilities."""
    twin = Node(node.parent, node.token)
    twin.p, twin.first = node.p, node.first
    return twin


def encode_chunk(predictor: LLMPredictor, chunk: bytes, advance: coding.Advance | None = None) -> coding.CodedChunk:
    """The code :func:`gencomp.coding.encode_chunk` writes for ``chunk``, up to the
    rounding of batched passes. A chunk longer than the window (it would slide it, which
    the passes do not do) and any chunk of a model without the fused step are coded step
    by step."""
    batched = supports_fused(predictor.loaded.model.config)
    if len(chunk) > predictor.context_window or not chunk or not predictor.kv_cache or not batched:
        return coding.encode_chunk(predictor, chunk, advance)
    with torch_threads(predictor.threads):
        return coding.encode_chunk(_ExactWalk(predictor, _Passes(predictor, chunk), chunk), chunk, advance)


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

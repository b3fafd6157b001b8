"""Code known bytes with a language model in a few batched forward passes.

When every byte is known in advance (evaluation, and the encoder side) the model steps
that :class:`~gencomp.llm.LLMPredictor` takes one token at a time can be computed
together, and the beam then walks the bytes exactly as it does when coding:

1. **The main line**: one forward pass over the chunk's own tokenisation gives the
   hidden state after every prefix of it, and keeps its keys and values.
2. **One token off it**: the token ends the beam asks for are, nearly all, a prefix of
   the main line followed by one token that matches the bytes there ("th" where the
   main line has "the"). Those that the main line's own distribution makes likely enough
   to be asked for are run in one more pass, each query attending to its prefix of the
   main line and to itself only (a tree attention mask over the first pass' cache).
3. **The walk**: the beam consumes the bytes as in coding; a token sequence neither pass
   computed gets a pass of its own (rare: see ``misses``).

Logits come from the stored hidden states by one matrix product per block of rows.
Batched products round differently from one-token steps, so the code lengths agree with
``gencomp compress`` closely (tested within 0.5%), not bit for bit: files are still coded
step by step, which a decoder can repeat.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
import torch

from gencomp import coding
from gencomp.llm import LLMPredictor, _Node

LOGIT_BLOCK = 64  # hidden-state rows turned into logits by one matrix product
LOGIT_BLOCKS_KEPT = 8  # blocks of logits kept (the walk moves left to right)
FOLLOW = 32  # main-line tokens run ahead on another tokenisation's history when it is asked for
QUERY_BATCH = 1024  # off-line queries per forward pass (bounds the mask's memory)

Key = tuple[int, ...]  # a token sequence, start token first


class _KnownBytes(LLMPredictor):
    """The predictor's beam over one known chunk, its model steps answered from batched
    passes instead of one-token steps."""

    def __init__(self, predictor: LLMPredictor, chunk: bytes) -> None:
        super().__init__(
            loaded=predictor.loaded,
            vocab=predictor.vocab,
            context_window=predictor.context_window,
            step_min=predictor.step_min,
        )
        self.misses = 0  # token sequences the walk asked for that no pass had computed
        self._chunk = chunk
        self._states: list[torch.Tensor] = []  # hidden states, one block per pass
        self._rows: dict[Key, tuple[int, int]] = {}  # sequence -> (pass, row)
        self._ends: dict[Key, int] = {}  # sequence -> the byte offset where its tokens end
        self._boundaries: dict[int, int] = {}  # byte offset -> main-line tokens that end there
        self._prefetched: dict[int, list[int]] = {}  # main-line tokens -> tokens prefetched after them
        self._logits: OrderedDict[tuple[int, int], torch.Tensor] = OrderedDict()
        self._line = self._main_line()
        self._main_line_pass()
        self._prefetch()

    # ------------------------------------------------------------------ which sequences

    def _main_line(self) -> list[int]:
        """The start token and the chunk's own tokenisation; records where each prefix
        ends in the chunk (not inside the escape tokens of a byte that has none)."""
        tokens, line, offset = self.vocab.encode(self._chunk), [self.bos], 0
        self._ends[tuple(line)] = 0
        i = 0
        while i < len(tokens):
            escape = self.vocab.escapes.get(self._chunk[offset])
            step = escape or [tokens[i]]
            line += step
            offset += 1 if escape else len(self.vocab.token_bytes[tokens[i]] or b"")
            self._ends[tuple(line)] = offset
            self._boundaries[offset] = len(line)
            i += len(step)
        return line

    def _matches(self, key: Key) -> list[tuple[Key, int]]:
        """``key`` + each token whose bytes follow it in the chunk, with where it ends."""
        offset = self._ends.get(key)
        if offset is None:
            return []
        found, split = [], self.vocab.root
        for depth, byte in enumerate(self._chunk[offset:], 1):
            split = self.vocab.child(split, byte)
            if split.lo == split.hi:
                break
            if split.end_rank >= 0:
                found.append(((*key, self.vocab.token_of(split)), offset + depth))
        return found

    def _around(self, key: Key) -> list[Key]:
        """A sequence the walk asked for, with what it will likely ask next (one pass costs
        about as much for a few queries as for one): the other tokens its last token's bytes
        could have started (its siblings), the tokens whose bytes follow it, and,
        where its bytes end where a main-line token does, the next ``FOLLOW`` main-line tokens
        from there (a hypothesis with another tokenisation of the same bytes follows the main line
        after it, as long as the beam keeps it)."""
        siblings = self._matches(key[:-1])
        self._ends.update(siblings)
        end = self._ends.get(key)
        if end is None:
            return [key]
        children = self._matches(key)
        self._ends.update(children)
        keys = [key, *(match for match, _ in siblings + children)]
        resync = self._boundaries.get(end)
        if resync is not None:
            for i in range(resync, min(resync + FOLLOW, len(self._line)) + 1):
                follow = (*key, *self._line[resync:i])
                main = tuple(self._line[:i])
                for token in ([] if i == resync else [None]) + self._prefetched.get(i, []):
                    copy, like = ((*follow, token), (*main, token)) if token is not None else (follow, main)
                    keys.append(copy)
                    if like in self._ends:
                        self._ends[copy] = self._ends[like]
        return keys

    def _prefetch(self) -> None:
        """Run, in batched passes, each main-line prefix + a matching token that the beam
        will likely ask about: q(token) / M(its bytes) at least ``step_min`` under the
        prefix's own distribution (the share of a token end the beam weighs for its main
        hypothesis, which asks for that end when its weight times the share reaches
        ``step_min``)."""
        wanted = []
        for j in range(1, len(self._line) + 1):
            key = tuple(self._line[:j])
            probs = self._probs(self._rows[key])
            for child, end in self._matches(key):
                if child not in self._rows:
                    split = self.vocab.split(self._chunk[self._ends[key] : end])
                    if probs[split.end_rank] >= self.step_min * probs[split.lo : split.hi].sum():
                        wanted.append(child)
                        self._ends[child] = end
                        self._prefetched.setdefault(j, []).append(child[-1])
        self._off_line_passes(wanted)

    # ------------------------------------------------------------------ passes

    @torch.inference_mode()
    def _main_line_pass(self) -> None:
        ids = torch.tensor([self._line], device=self.loaded.device)
        out = self.model.model(input_ids=ids, use_cache=True)
        self.model_steps += 1
        self._line_cache = out.past_key_values
        self._store([tuple(self._line[: i + 1]) for i in range(len(self._line))], out.last_hidden_state[0])

    def _off_line_passes(self, keys: list[Key]) -> None:
        """Hidden states of sequences that leave the main line, in passes of up to about
        ``QUERY_BATCH`` queries; a key's off-line ancestors run in the same pass."""
        batch: dict[Key, None] = {}
        for key in keys:
            if key in self._rows:
                continue
            unit = [key[:depth] for depth in range(self._shared(key) + 1, len(key) + 1)]
            if batch and len(batch) + sum(k not in batch for k in unit) > QUERY_BATCH:
                self._tree_pass(list(batch))
                batch = {}
            batch.update(dict.fromkeys(unit))
        if batch:
            self._tree_pass(list(batch))

    @torch.inference_mode()
    def _tree_pass(self, batch: list[Key]) -> None:
        """One pass over the main line's cache (cropped back after): each query attends to
        its prefix of the main line and to its own off-line tokens, all in ``batch``."""
        line = len(self._line)
        index = {key: i for i, key in enumerate(batch)}
        mask = torch.full((len(batch), line + len(batch)), -math.inf, dtype=self.loaded.dtype)
        for i, key in enumerate(batch):
            shared = self._shared(key)
            mask[i, :shared] = 0.0
            for depth in range(shared + 1, len(key) + 1):
                mask[i, line + index[key[:depth]]] = 0.0
        device = self.loaded.device
        out = self.model.model(
            input_ids=torch.tensor([[key[-1] for key in batch]], device=device),
            position_ids=torch.tensor([[len(key) - 1 for key in batch]], device=device),
            attention_mask=mask[None, None].to(device),
            cache=self._line_cache,
            use_cache=True,
        )
        self.model_steps += 1
        self._line_cache.crop(-len(batch))
        self._store(batch, out.last_hidden_state[0])

    def _shared(self, key: Key) -> int:
        """How many leading tokens ``key`` shares with the main line."""
        n = 0
        for a, b in zip(key, self._line):
            if a != b:
                break
            n += 1
        return n

    def _store(self, keys: list[Key], states: torch.Tensor) -> None:
        block = len(self._states)
        self._states.append(states)
        for row, key in enumerate(keys):
            self._rows.setdefault(key, (block, row))  # the first computation stays the truth

    # ------------------------------------------------------------------ logits

    def _block_logits(self, block: int, row: int) -> torch.Tensor:
        """Logits of a stored row, computed with its neighbours in one matrix product."""
        part = (block, row // LOGIT_BLOCK)
        logits = self._logits.get(part)
        if logits is None:
            start = part[1] * LOGIT_BLOCK
            with torch.inference_mode():
                logits = self.model.lm_head(self._states[block][start : start + LOGIT_BLOCK])
            self._logits[part] = logits
            if len(self._logits) > LOGIT_BLOCKS_KEPT:
                self._logits.popitem(last=False)
        else:
            self._logits.move_to_end(part)
        return logits[row % LOGIT_BLOCK]

    def _probs(self, where: tuple[int, int]) -> np.ndarray:
        """Next-token probabilities in the vocabulary's sorted order."""
        probs = torch.softmax(self._block_logits(*where).double(), dim=-1).cpu().numpy()
        return probs[self.vocab.order]

    # ------------------------------------------------------------------ the beam's model steps

    def _ensure(self, node: _Node) -> None:
        if node.p is not None:
            return
        key = tuple(n.token for n in node.path())
        if key not in self._rows:
            self.misses += 1
            self._off_line_passes(self._around(key))
        self._set_probs(node, self._block_logits(*self._rows[key]))


def encode_chunk(predictor: LLMPredictor, chunk: bytes, advance: coding.Advance | None = None) -> coding.CodedChunk:
    """What :func:`gencomp.coding.encode_chunk` writes for ``chunk``, from batched passes.
    A chunk longer than the window would slide it, which the passes do not do: it is
    coded step by step."""
    if len(chunk) > predictor.context_window or not chunk or not predictor.kv_cache:
        return coding.encode_chunk(predictor, chunk, advance)
    return coding.encode_chunk(_KnownBytes(predictor, chunk), chunk, advance)

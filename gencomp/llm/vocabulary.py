"""The vocabulary as byte strings: tables that turn a next-token distribution into
next-byte masses with a few vectorised operations, and bytes <-> tokens.

Tokens are sorted by their byte strings, so the tokens whose bytes start with a prefix u
form one contiguous range [lo, hi) of the sorted order, and the ranges of u·0 … u·255 split
it in byte order (after the one token equal to u, if any: a shorter string sorts first).
With p the next-token probabilities in sorted order, the mass M(u·b) of every b is one
``np.add.reduceat`` over the range. Special tokens (``<|endoftext|>`` …) have no bytes and
are left out: the byte model conditions on the text going on.

Bytes with no single-byte token (21 of them in SmolLM2: control bytes and bytes that
never occur in UTF-8) get a documented representation when they are fed back as context:
byte m is written as the tokens of the character U+00MM in UTF-8 for m >= 0x80 (the
Latin-1 letter with that code: ÿ for 0xFF) and of the control picture U+24MM for a control
byte (␄ for 0x04). Every byte thus maps to a distinct token sequence; the predictor always
knows the true bytes, the tokens only condition the model. Such a byte costs 1-3 tokens of
context instead of one (measured on SmolLM2; ``<0xMM>`` cost 5-6, which made bright image
pixels, 0xF5-0xFF, six model steps each), and its probability comes from the predictor's
floor (see ``gencomp.llm.predictor``), not from the model: about 20 bits each when coded.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from gencomp.errors import GencompError
from gencomp.predictor import ALPHABET


def escape_text(byte: int) -> bytes:
    """The text that stands for a byte with no token of its own: U+00MM (a Latin-1 letter)
    for bytes from 0x80, the control picture U+24MM for control bytes."""
    return chr(byte if byte >= 0x80 else 0x2400 + byte).encode()


@lru_cache(maxsize=1)
def byte_level_alphabet() -> tuple[str, ...]:
    """GPT-2's printable stand-in character for each byte (as in byte-level BPE vocabularies)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    chars = {b: chr(b) for b in printable}
    extra = 0
    for b in range(ALPHABET):
        if b not in chars:
            chars[b] = chr(ALPHABET + extra)
            extra += 1
    return tuple(chars[b] for b in range(ALPHABET))


@dataclass(frozen=True)
class Split:
    """How the tokens starting with a prefix u (length ``depth``) divide by their next byte."""

    lo: int  # range [lo, hi) of the sorted table: tokens whose bytes start with u
    hi: int
    depth: int
    end_rank: int  # sorted position of the token equal to u, or -1
    starts: np.ndarray  # int64[257]: tokens starting with u·b are [starts[b], starts[b+1])


def start_token(tokenizer: Any, vocabulary: dict[str, int]) -> int:
    """The token every sequence starts from: ``<|endoftext|>`` where the vocabulary has it
    (the document separator of GPT-2 style pretraining), else the tokenizer's BOS, else
    its EOS."""
    for candidate in (vocabulary.get("<|endoftext|>"), tokenizer.bos_token_id, tokenizer.eos_token_id):
        if candidate is not None:
            return int(candidate)
    raise GencompError("the tokenizer has no <|endoftext|>, BOS or EOS token to start from; use another model")


class ByteVocab:
    """Byte tables for one byte-level BPE tokenizer (built once, about 1 s)."""

    def __init__(self, tokenizer: Any) -> None:
        backend = tokenizer.backend_tokenizer
        spec = json.loads(backend.to_str())
        if spec["model"]["type"] != "BPE" or "ByteLevel" not in json.dumps(spec.get("decoder")):
            raise GencompError(
                "this model's tokenizer is not byte-level BPE (GPT-2 style); gencomp's LLM "
                "predictor supports byte-level BPE tokenizers only"
            )
        self._model = backend.model
        self._pre = backend.pre_tokenizer
        decode = {ch: b for b, ch in enumerate(byte_level_alphabet())}
        special = set(tokenizer.all_special_ids) | set(tokenizer.added_tokens_decoder)
        vocabulary = tokenizer.get_vocab()  # a fresh dict each call: 40 ms for SmolLM2's
        self.start = start_token(tokenizer, vocabulary)
        size = max(len(tokenizer), max(vocabulary.values()) + 1)
        self.token_bytes: list[bytes | None] = [None] * size
        for text, index in vocabulary.items():
            if index not in special and all(ch in decode for ch in text):
                self.token_bytes[index] = bytes(decode[ch] for ch in text)
        normal = [i for i, b in enumerate(self.token_bytes) if b]
        normal.sort(key=lambda i: self.token_bytes[i])
        self.order = np.array(normal, dtype=np.int64)  # sorted position -> token id
        self.sorted_bytes = [self.token_bytes[i] for i in normal]
        longest = max(len(b) for b in self.sorted_bytes)
        # matrix[r, d] = byte d of sorted token r, or -1 past its end
        self.matrix = np.full((len(normal), longest + 1), -1, dtype=np.int16)
        for r, b in enumerate(self.sorted_bytes):
            self.matrix[r, : len(b)] = np.frombuffer(b, dtype=np.uint8)
        singles = {b[0] for b in self.sorted_bytes if len(b) == 1}
        self.missing = bytes(b for b in range(ALPHABET) if b not in singles)  # no one-byte token
        # encode() consults the escapes, so it runs with none while they are built: safe,
        # as the UTF-8 of U+0080..U+00FF and U+2400..U+241F contains no missing byte
        self.escapes: dict[int, list[int]] = {}
        self.escapes = {m: self.encode(escape_text(m)) for m in self.missing}
        self.root = self.split(b"")

    # ------------------------------------------------------------------ tables

    def split(self, prefix: bytes) -> Split:
        """The ``Split`` of the tokens starting with ``prefix`` (binary search, O(log V))."""
        n = len(prefix)
        lo = bisect.bisect_left(self.sorted_bytes, prefix)
        hi = bisect.bisect_right(self.sorted_bytes, prefix, lo=lo, key=lambda t: t[:n])
        return self._split(lo, hi, n)

    def child(self, parent: Split, byte: int) -> Split:
        """The split of prefix·byte, from the parent's (no search)."""
        return self._split(int(parent.starts[byte]), int(parent.starts[byte + 1]), parent.depth + 1)

    def _split(self, lo: int, hi: int, depth: int) -> Split:
        column = self.matrix[lo:hi, depth] if depth < self.matrix.shape[1] else np.empty(0, np.int16)
        starts = lo + np.searchsorted(column, np.arange(ALPHABET + 1), side="left")
        starts[ALPHABET] = hi
        end_rank = lo if depth > 0 and hi > lo and column[0] == -1 else -1
        return Split(lo, hi, depth, end_rank, starts)

    @staticmethod
    def masses(p_sorted: np.ndarray, split: Split) -> tuple[np.ndarray, float]:
        """(M(u·b) for all 256 b, q(token == u)) under token probabilities ``p_sorted``."""
        out = np.zeros(ALPHABET)
        starts = split.starts
        nonempty = starts[1:] > starts[:-1]
        if nonempty.any():
            first = int(starts[0])
            out[nonempty] = np.add.reduceat(p_sorted[first : split.hi], starts[:-1][nonempty] - first)
        end = float(p_sorted[split.end_rank]) if split.end_rank >= 0 else 0.0
        return out, end

    # ------------------------------------------------------------------ bytes <-> tokens

    def token_of(self, split: Split) -> int:
        """The token whose bytes are exactly the split's prefix (``end_rank`` must be set)."""
        return int(self.order[split.end_rank])

    def encode(self, data: bytes) -> list[int]:
        """A tokenisation of any bytes: the tokenizer's own for UTF-8 text (without parsing
        special tokens), BPE on raw byte runs elsewhere, :func:`escape_text` for missing bytes."""
        ids: list[int] = []
        run = bytearray()
        for byte in data:
            if byte in self.escapes:
                ids += self._encode_run(bytes(run)) + self.escapes[byte]
                run.clear()
            else:
                run.append(byte)
        return ids + self._encode_run(bytes(run))

    def _encode_run(self, data: bytes) -> list[int]:
        alphabet = byte_level_alphabet()
        ids: list[int] = []
        text = data.decode("utf-8", errors="surrogateescape")
        for part in re.split(r"([\udc80-\udcff]+)", text):
            if not part:
                continue
            if "\udc80" <= part[0] <= "\udcff":  # bytes that are not UTF-8: plain BPE
                pieces = ["".join(alphabet[ord(ch) - 0xDC00] for ch in part)]
            else:
                pieces = [piece for piece, _ in self._pre.pre_tokenize_str(part)]
            for piece in pieces:
                ids += [token.id for token in self._model.tokenize(piece)]
        if b"".join(self.token_bytes[i] or b"" for i in ids) != data:
            raise RuntimeError("tokenisation does not reproduce the bytes")  # invariant
        return ids

"""The beam's parts: the tree of token sequences and the tokenisation hypotheses."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from gencomp.llm.vocabulary import Split


class Node:
    """A token sequence: its last token, the parent sequence, that token's keys and values
    (all layers in one tensor), and, while the beam needs them, the next-token
    probabilities in the vocabulary's sorted order and the first-byte masses."""

    __slots__ = ("parent", "token", "depth", "kv", "p", "first")

    def __init__(self, parent: Node | None, token: int) -> None:
        self.parent = parent
        self.token = token
        self.depth = 1 if parent is None else parent.depth + 1
        self.kv: torch.Tensor | None = None  # [layers, 2, kv_heads, 1, head_dim]
        self.p: np.ndarray | None = None
        self.first: np.ndarray | None = None  # M(b) / M("") for all b: a token starts with b

    def path(self) -> list[Node]:
        nodes = []
        node: Node | None = self
        while node is not None:
            nodes.append(node)
            node = node.parent
        return nodes[::-1]


@dataclass
class Hypothesis:
    """One tokenisation of the bytes seen so far, with its weight and what the next byte's
    distribution needs."""

    node: Node  # committed tokens
    pending: bytes  # bytes of the token in progress
    split: Split  # the tokens that start with ``pending``
    logw: float  # log P(tokens) + log M(pending), up to a constant shared by the beam
    # next-token probabilities (sorted) and first-byte distribution after ``node``; while
    # ``node`` is too unlikely to pay its model step, those of its nearest computed ancestor
    probs: np.ndarray | None = None
    first: np.ndarray | None = None
    # filled by _fill_cases: p(b | h) as its two cases
    goes_on: np.ndarray | None = None  # M(pending·b) / M(pending)
    ends: float = 0.0  # q(tok(pending)) / M(pending)
    end_node: Node | None = None  # tokens + tok(pending)
    after: np.ndarray | None = None  # first-byte distribution after end_node (or a proxy)

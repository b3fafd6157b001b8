"""The comparison run from Python, without the CLI: the same prompt and seed for every
predictor, the files `gencomp compare` writes, and progress through a Track."""

from __future__ import annotations

import contextlib

from gencomp import comparison, load_predictor
from gencomp.continuation import Sampling
from gencomp.prompts import TextPrompt


def test_a_text_comparison_from_python():
    predictors = {spec: load_predictor(spec) for spec in ("gzip", "bz2")}
    pieces: list[tuple[str, int, list[int]]] = []

    @contextlib.contextmanager
    def track(name: str, total: int, done: int = 0):
        pieces.append((name, total, []))
        yield pieces[-1][2].append

    drawn = comparison.draw(predictors, TextPrompt(b"to be or not to be, ", 6), Sampling(seed=5), track)
    again = comparison.draw(predictors, TextPrompt(b"to be or not to be, ", 6), Sampling(seed=5))
    assert [c.text for c in drawn.continuations] == [c.text for c in again.continuations]
    assert all(len(c.text) == 6 for c in drawn.continuations)
    assert [(name, total, sum(steps)) for name, total, steps in pieces] == [("gzip", 6, 6), ("bz2", 6, 6)]
    files = comparison.outputs(drawn, predictors)
    assert list(files) == list(comparison.file_names("text", drawn.specs)) == ["markdown", "page"]
    assert b"seed 5" in files["markdown"] and b"<html" in files["page"].lower()

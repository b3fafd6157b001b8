"""Spec strings: the canonical spelling, the names of earlier versions, and a class built
with no arguments being its family's bare spec.

tests/data/v0_1_*.gcz were written by gencomp 0.1.0 (`gencomp compress -m gzip`,
`-m zstd:fast`, `-m png:width=16`, of tests/data/v0_1.txt), whose headers name the
refinements lookahead, spans, offsets, sharpness and primes."""

from __future__ import annotations

from pathlib import Path

import pytest

from gencomp import container, load_predictor
from gencomp.compressors.codecs import Bz2Predictor, GzipPredictor, LzmaPredictor, ZstdPredictor
from gencomp.compressors.flac import FlacPredictor
from gencomp.compressors.png import PngPredictor
from gencomp.compressors.ppmd import PpmdPredictor
from gencomp.ngram import NgramPredictor
from gencomp.ppm import PpmPredictor
from gencomp.spec import canonical_spec, parse_spec

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("name", ["gzip", "zstd", "png"])
def test_files_written_by_version_0_1_still_decode(name):
    blob = (DATA / f"v0_1_{name}.gcz").read_bytes()
    header = container.unpack(blob)[0]
    assert "offsets=" in header.spec and "adapt" not in parse_spec(header.spec)[1]  # the old names, as written then
    if name != "png":  # the default adapts since 0.4: read with today's defaults, the file would not decode
        assert load_predictor(header.spec).fingerprint != header.fingerprint
    assert container.decompress(blob) == (DATA / "v0_1.txt").read_bytes()


def test_old_option_names_are_read_as_the_new_ones():
    old = load_predictor("gzip:lookahead=0,spans=4,offsets=2,sharpness=0.5,primes=1")
    new = load_predictor("gzip:horizon=1,continuations=4,views=2,exponent=0.5,shuffled_views=1")
    assert old.spec == new.spec and "horizon=1," in new.spec


@pytest.mark.parametrize(
    "spec",
    ["gzip", "GZIP:fast", " zstd:exponent=0.5,level=19 ", "gzip:lookahead=4,paper=false", "png:width=16,pool=0",
     "llm:HuggingFaceTB/SmolLM2-360M,threads=2,device=cpu", "mix:(gzip:level=6,views=2)+ngram:order=1,rate=0.02"],
)
def test_the_canonical_spelling_is_a_fixed_point_naming_the_same_options(spec):
    canonical = canonical_spec(spec)
    assert canonical_spec(canonical) == canonical
    assert parse_spec(canonical) == parse_spec(spec)


@pytest.mark.parametrize(
    "cls, name",
    [(GzipPredictor, "gzip"), (ZstdPredictor, "zstd"), (LzmaPredictor, "lzma"), (Bz2Predictor, "bz2"), (PpmdPredictor, "ppmd"),
     (PngPredictor, "png"), (FlacPredictor, "flac"), (PpmPredictor, "ppm"), (NgramPredictor, "ngram")],
)
def test_a_class_with_no_arguments_is_its_bare_spec(cls, name):
    built, loaded = cls(), load_predictor(name)
    assert built.spec == loaded.spec
    assert load_predictor(built.spec).spec == built.spec

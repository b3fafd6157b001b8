"""Long inputs: 64 KB of real prose through the real `compress` and `decompress` stays
within a memory bound (the decoder writes chunk by chunk; nothing holds the data more than
a few times over). Time and memory at 1 MB, linear in size: bench/long_inputs.py."""

from __future__ import annotations

from pathlib import Path

from gencomp.datasets import text_corpus
from peak_memory import gencomp_with_peak

FAST = "zstd:paper,context_window=8"  # the fastest predictor (a few thousand bytes/s)
BOUND_KIB = 200 << 10  # the interpreter, numpy and the CLI take ~100 MiB; 64 KB adds little


def test_64_kb_round_trip_in_bounded_memory(tmp_path: Path) -> None:
    original = text_corpus().data[:64 << 10]
    source, packed, out = tmp_path / "prose.txt", tmp_path / "prose.gcz", tmp_path / "prose.out"
    source.write_bytes(original)
    _, compress_peak = gencomp_with_peak("compress", "-m", FAST, "--workers", "2", str(source), str(packed))
    _, decompress_peak = gencomp_with_peak("decompress", "--workers", "2", str(packed), str(out))
    assert out.read_bytes() == original
    assert compress_peak < BOUND_KIB and decompress_peak < BOUND_KIB, (compress_peak, decompress_peak)

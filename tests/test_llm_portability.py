"""LLM-coded files decode with another thread count: encode in one process with torch on 2
threads, decode in a fresh one on 1 thread, and the other way round, through the real CLI
and the bundled model. The spec's `threads` fixes the count the model runs on for coding,
whatever OMP_NUM_THREADS says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

GENCOMP = str(Path(sys.executable).with_name("gencomp"))


def run(args: list[str], threads: int) -> subprocess.CompletedProcess:
    env = os.environ | {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    return subprocess.run([GENCOMP, *args], env=env, capture_output=True, timeout=600)


@pytest.mark.parametrize(
    "spec, encoder_threads, decoder_threads",
    [("llm", 2, 1), ("llm:threads=2", 1, 2)],
    ids=["default-2-to-1", "threads=2-1-to-2"],
)
def test_a_file_decodes_with_another_thread_count(tmp_path: Path, corpus: bytes, spec, encoder_threads, decoder_threads) -> None:
    original = corpus[20000:20080]  # real prose: long enough for several token alternatives
    (tmp_path / "in.txt").write_bytes(original)
    args = ["compress", "--workers", "1", "--model", spec, str(tmp_path / "in.txt"), str(tmp_path / "in.gcz")]
    done = run(args, threads=encoder_threads)
    assert done.returncode == 0, done.stderr.decode()
    done = run(["decompress", "--workers", "1", str(tmp_path / "in.gcz"), str(tmp_path / "out.txt")], threads=decoder_threads)
    assert done.returncode == 0, done.stderr.decode()
    assert (tmp_path / "out.txt").read_bytes() == original

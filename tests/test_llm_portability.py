"""LLM-coded files decode with another thread count: encode in one process with torch on 2
threads, decode in a fresh one on 1 thread, through the real CLI and the bundled model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

GENCOMP = str(Path(sys.executable).with_name("gencomp"))


def run(args: list[str], threads: int) -> subprocess.CompletedProcess:
    env = os.environ | {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    return subprocess.run([GENCOMP, *args], env=env, capture_output=True, timeout=600)


def test_a_file_written_on_two_threads_decodes_on_one(tmp_path: Path, corpus: bytes) -> None:
    original = corpus[20000:20160]  # real prose: long enough for several token alternatives
    (tmp_path / "in.txt").write_bytes(original)
    done = run(["compress", "--model", "llm", str(tmp_path / "in.txt"), str(tmp_path / "in.gcz")], threads=2)
    assert done.returncode == 0, done.stderr.decode()
    done = run(["decompress", str(tmp_path / "in.gcz"), str(tmp_path / "out.txt")], threads=1)
    assert done.returncode == 0, done.stderr.decode()
    assert (tmp_path / "out.txt").read_bytes() == original

"""The real `gencomp` command in its own process: an interrupt (Ctrl-C or SIGTERM) in the
middle of coding leaves no output and no temporary file behind and ends the worker
processes; compressed data is not read from a terminal. The inputs are slices of the
bundled text corpus, written here."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gencomp import container
from gencomp.datasets import text_corpus
from gencomp.spec import load_predictor

GENCOMP = str(Path(sys.executable).with_name("gencomp"))
SLOW = "zstd:fast"  # a few hundred bytes a second: slow enough to interrupt, quick to set up


def children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (the coding workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def interrupt_when(process: subprocess.Popen, ready, signum: int, workers_expected: bool = True) -> None:
    """Send ``signum`` once ``ready()`` holds (the work has started), then wait for the end
    and check that no worker outlives the command."""
    deadline = time.monotonic() + 120
    while not ready():
        assert process.poll() is None, process.communicate()[1].decode()
        assert time.monotonic() < deadline, "coding never started"
        time.sleep(0.05)
    time.sleep(0.3)
    workers = children(process.pid)
    assert bool(workers) == workers_expected, workers
    process.send_signal(signum)
    _, err = process.communicate(timeout=30)
    assert process.returncode != 0, err.decode()
    time.sleep(0.5)
    assert [pid for pid in workers if running(pid)] == []


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (not gone, not a zombie awaiting its parent)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.fixture(scope="module")
def original() -> bytes:
    return text_corpus().data[40_000:46_000]  # 20 chunks: seconds of decoding to interrupt


@pytest.fixture(scope="module")
def compressed(original: bytes) -> bytes:
    return container.compress(load_predictor(SLOW), original, chunk_size=300).data


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_decompress_leaves_nothing(tmp_path: Path, compressed: bytes, signum: int) -> None:
    gcz = tmp_path / "notes.gcz"
    gcz.write_bytes(compressed)
    out = tmp_path / "notes.txt"
    process = subprocess.Popen([GENCOMP, "decompress", "--workers", "2", str(gcz), str(out)], stderr=subprocess.PIPE)
    interrupt_when(process, lambda: any(tmp_path.glob(".notes.txt.*")), signum)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.gcz"]


def test_an_interrupted_compress_leaves_nothing(tmp_path: Path, original: bytes) -> None:
    source = tmp_path / "notes.txt"
    source.write_bytes(original)
    process = subprocess.Popen(
        [GENCOMP, "compress", "-m", SLOW, "--chunk-size", "300", "--workers", "2", str(source), str(tmp_path / "notes.gcz")],
        stderr=subprocess.PIPE,
    )
    interrupt_when(process, lambda: len(children(process.pid)) >= 2, signal.SIGTERM)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_compressed_data_is_not_read_from_a_terminal(tmp_path: Path) -> None:
    main, terminal = pty.openpty()
    try:
        result = subprocess.run([GENCOMP, "decompress", "-", str(tmp_path / "out")], stdin=terminal, capture_output=True, timeout=60)
    finally:
        os.close(main)
        os.close(terminal)
    assert result.returncode == 1
    assert result.stderr.decode().strip() == "error: compressed data would come from the terminal; pipe a .gcz file in or name it"
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_sample_leaves_no_out_file(tmp_path: Path) -> None:
    out = tmp_path / "continuation.txt"
    process = subprocess.Popen([GENCOMP, "sample", "-m", SLOW, "-n", "20000", "--seed", "0", "--out", str(out)], stderr=subprocess.PIPE)
    interrupt_when(process, lambda: any(tmp_path.glob(".continuation.txt.*")), signal.SIGINT, workers_expected=False)
    assert list(tmp_path.iterdir()) == []

"""Streaming, resumable evaluation: per-chunk results files, `--resume` after an interrupt
giving the table of an uninterrupted run, refusals of files that do not fit, and worker
processes that yield results as they finish and stop at once when asked."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gencomp import datasets, workers
from gencomp.results_log import read_results
from gencomp.spec import load_predictor
from gencomp_cli.main import app

SPEC = "zstd:paper"  # fast, and its rates differ from chunk to chunk
FILES = 12


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> dict:
    """An uninterrupted run with two workers over a folder of small text files (one chunk
    each): its data, results file, table and JSON."""
    folder = tmp_path_factory.mktemp("resume")
    data = folder / "data"
    data.mkdir()
    corpus = datasets.text_corpus().data
    for i in range(FILES):
        (data / f"{i:02}.txt").write_bytes(corpus[1000 * i : 1000 * i + 100 + 7 * i])
    results, document = folder / "full.jsonl", folder / "full.json"
    done = evaluate(data, "--workers", "2", "--results", str(results), "--json", str(document))
    assert done.exit_code == 0, done.stderr
    return {"data": data, "results": results, "table": done.stdout, "json": json.loads(document.read_text())}


def evaluate(data: Path, *args: str):
    return CliRunner().invoke(app, ["evaluate", "--data", str(data), "-m", SPEC, "--no-classical", "--limit", str(FILES), *args])


def rows(document: dict) -> list[dict]:
    """The results without their timings (which no two runs share)."""
    return [{k: v for k, v in row.items() if k != "seconds"} for row in document["results"]]


def test_the_results_file_has_a_header_and_one_whole_line_per_chunk(run):
    header, *lines = run["results"].read_text().splitlines()
    settings = json.loads(header)["settings"]
    assert settings["models"] == {load_predictor(SPEC).spec: load_predictor(SPEC).fingerprint}
    assert settings["selection"] == {"limit": FILES, "sample": None, "seed": 0}
    assert settings["data"]["text"]["chunks"] == FILES and settings["chunk_size"] == 2048
    chunks = [json.loads(line) for line in lines]
    assert sorted(c["chunk"] for c in chunks) == list(range(FILES))
    (row,) = run["json"]["results"]
    assert sum(c["compressed_bytes"] for c in chunks) == row["compressed_bytes"]
    assert sum(c["raw_bytes"] for c in chunks) == row["raw_bytes"] == sum(100 + 7 * i for i in range(FILES))
    assert row["rate_low"] < row["rate"] < row["rate_high"]


def test_resume_after_a_line_cut_off_mid_write_gives_the_same_table(run, tmp_path):
    """Truncated inside its fourth chunk line: three chunks are kept, the cut line is
    ignored and said so, the rest are coded and appended, and the table is unchanged."""
    whole = run["results"].read_bytes()
    lines = whole.splitlines(keepends=True)
    kept = b"".join(lines[:4])  # the header and three chunks
    partial = tmp_path / "partial.jsonl"
    partial.write_bytes(kept + lines[4][:40])
    document = tmp_path / "resumed.json"
    done = evaluate(run["data"], "--workers", "1", "--resume", str(partial), "--json", str(document))
    assert done.exit_code == 0, done.stderr
    assert "its last line was cut off mid-write; ignored" in done.stderr
    assert "3 chunk(s) already done" in done.stderr
    assert done.stdout == run["table"]
    assert rows(json.loads(document.read_text())) == rows(run["json"])
    resumed = partial.read_bytes()
    assert resumed.startswith(kept)  # finished chunks are kept as they were, not coded again
    assert sorted(json.loads(line)["chunk"] for line in resumed.splitlines()[1:]) == list(range(FILES))


def test_ctrl_c_leaves_a_valid_file_that_resume_finishes(run, tmp_path):
    """SIGINT to the process group (what Ctrl-C sends) with two workers busy: exit 1 with
    one line, no traceback, every line of the file whole; --resume then gives the table."""
    results = tmp_path / "interrupted.jsonl"
    command = [str(Path(sys.executable).with_name("gencomp")), "evaluate", "--data", str(run["data"]), "-m", SPEC,
               "--no-classical", "--limit", str(FILES), "--workers", "2", "--results", str(results)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 120
    while not (results.exists() and results.read_bytes().count(b"\n") >= 2) and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    recorded = read_results(results)
    if process.returncode == 0:  # finished before the signal came: nothing to resume
        assert len(recorded.results) == FILES
    else:
        assert process.returncode == 1 and "Traceback" not in stderr.decode()
        assert stderr.decode().strip().splitlines()[-1] == f"error: interrupted; the finished chunks are in {results}: continue with --resume {results}"
        assert not recorded.truncated and 1 <= len(recorded.results) < FILES
    done = evaluate(run["data"], "--workers", "1", "--resume", str(results))
    assert done.exit_code == 0, done.stderr
    assert done.stdout == run["table"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--limit", "5"], "selection.limit: 12 in the file, 5 now"),
        (["-m", "gzip:paper"], "models: zstd:level=3,context_window=2048,paper in the file, zstd:level=3,context_window=2048,paper, gzip:level=9,context_window=2048,paper now"),
    ],
)
def test_resume_refuses_other_settings_and_leaves_the_file(run, tmp_path, args, message):
    copy = tmp_path / "copy.jsonl"
    shutil.copy(run["results"], copy)
    done = evaluate(run["data"], "--resume", str(copy), *args)
    assert done.exit_code == 1 and done.stdout == ""
    (line,) = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert line.startswith(f"error: {copy} was made with other settings: ") and message in line
    assert copy.read_bytes() == run["results"].read_bytes()


def test_resume_refuses_changed_data(run, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(run["data"], data)
    (data / "05.txt").write_bytes((data / "05.txt").read_bytes().upper())  # same size, other content
    copy = tmp_path / "copy.jsonl"
    shutil.copy(run["results"], copy)
    done = evaluate(data, "--resume", str(copy))
    assert done.exit_code == 1 and "data.text.sha256:" in done.stderr
    assert copy.read_bytes() == run["results"].read_bytes()


@pytest.mark.parametrize(
    "content, message",
    [
        (b"hello\n", "is not a gencomp evaluate results file"),
        (b"", "is not a gencomp evaluate results file"),
        (b'{"format": "gencomp evaluate results", "version": 9, "settings": {}}\n', "is a results file of version 9; this gencomp reads version 1"),
        (None, ": line 3 is not a chunk result"),  # the run's file with its second chunk line replaced
    ],
)
def test_resume_refuses_files_that_are_not_ours(run, tmp_path, content, message):
    path = tmp_path / "foreign.jsonl"
    if content is None:
        lines = run["results"].read_bytes().splitlines(keepends=True)
        content = b"".join(lines[:2]) + b'{"chunk": "two"}\n' + b"".join(lines[3:])
    path.write_bytes(content)
    done = evaluate(run["data"], "--resume", str(path))
    assert done.exit_code == 1 and done.stdout == ""
    assert done.stderr.strip().splitlines()[-1].startswith(f"error: {path}") and message in done.stderr
    assert path.read_bytes() == content


def test_results_and_resume_refuse_before_any_work(run, tmp_path):
    existing = tmp_path / "existing.jsonl"
    existing.write_text("keep me")
    cases = [
        (["--results", str(existing)], f"error: {existing} exists; pass --force to overwrite it"),
        (["--resume", str(tmp_path / "missing.jsonl")], f"error: {tmp_path / 'missing.jsonl'} is not a file; --resume continues a file written by --results"),
        (["--results", "a.jsonl", "--resume", str(existing)], "error: --resume appends to the file it continues; do not also pass --results"),
        (["--results", str(existing), "--json", str(existing), "--force"], f"error: --json and --results both name {existing}"),
    ]
    for args, message in cases:
        done = evaluate(run["data"], *args)
        assert done.exit_code == 1 and done.stderr.strip() == message
    assert existing.read_text() == "keep me"


# ------------------------------------------------------------------ worker processes


def _pid_after(predictor, seconds: float) -> tuple[int, bool]:
    """A task for the workers: sleep, then say which process ran it and whether torch is there."""
    time.sleep(seconds)
    return os.getpid(), "torch" in sys.modules


def test_workers_yield_results_as_they_finish_and_stop_when_asked():
    """The quick task's result comes first though it was given second; compressor workers
    never import torch; closing the generator mid-task ends the workers at once."""
    running = workers.in_processes(load_predictor("zstd:paper"), _pid_after, [(2.0,), (0.0,), (60.0,)], workers=2)
    (first, (quick, torch_quick)), (second, (slow, torch_slow)) = next(running), next(running)
    assert (first, second) == (1, 0) and quick != slow
    assert torch_quick is torch_slow is False
    start = time.monotonic()
    running.close()  # one worker is 60 s into the third task
    assert time.monotonic() - start < 10
    for pid in (quick, slow):
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # ended and reaped


def test_a_worker_gives_torch_its_share_of_the_cores():
    """What a worker does on start once its predictor has imported torch (a language model
    does): torch runs the threads the parent gave it (cores // workers), not one per core."""
    torch = pytest.importorskip("torch")
    predictor = load_predictor("zstd:paper")
    threads, handler = torch.get_num_threads(), signal.getsignal(signal.SIGINT)
    try:
        workers._start_worker(predictor.spec, predictor.fingerprint, 1)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(threads)
        signal.signal(signal.SIGINT, handler)


def test_a_default_run_resumed_with_every_modality_adds_the_random_rows_alone(tmp_path):
    """The bundled data's random bytes are left to the classical rows by default; resuming
    that run's file with --modality all codes them through the predictor and nothing else
    again, and its table is that of a run with --modality all from the start (with the
    counting model: 2 KB chunks of the paper's zstd took a minute)."""
    def bundled(*args: str):
        result = CliRunner().invoke(app, ["evaluate", "-m", "ngram", "--no-classical", "--limit", "2", "--workers", "1", "--csv", "-", *args])
        assert result.exit_code == 0, result.stderr
        return result

    first, again = tmp_path / "first.jsonl", tmp_path / "again.jsonl"
    bundled("--results", str(first))
    coded = [json.loads(line) for line in first.read_text().splitlines()[1:]]
    assert sorted({c["modality"] for c in coded}) == ["audio", "image", "text"] and len(coded) == 6
    resumed = bundled("--resume", str(first), "-M", "all")
    added = [json.loads(line) for line in first.read_text().splitlines()[1 + len(coded):]]
    assert [(c["modality"], c["chunk"]) for c in added] == [("random", 0), ("random", 1)]
    whole = bundled("--results", str(again), "-M", "all")
    assert resumed.stdout.splitlines()[1:] and _without_seconds(resumed.stdout) == _without_seconds(whole.stdout)


def _without_seconds(csv: str) -> list[list[str]]:
    header, *lines = [line.split(",") for line in csv.splitlines()]
    keep = [i for i, name in enumerate(header) if name != "seconds"]
    return [[line[i] for i in keep] for line in lines]

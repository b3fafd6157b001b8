"""`gencomp sample`, `gencomp models`, `gencomp evaluate` and the command line itself, end to
end through typer's test runner (stdout and stderr checked separately)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gencomp.eval_data import bundled_data
from gencomp.evaluate import CODECS, CODED_CHUNKS
from gencomp_cli.evaluate import DEFAULT_SAMPLE
from gencomp_cli.main import app

runner = CliRunner()


def run(*args: str, input: bytes | None = None):
    return runner.invoke(app, list(args), input=input)


def test_help_names_the_default_context():
    result = run("sample", "--help")
    assert result.exit_code == 0
    assert "Wikipedia lead sections on Earth, Ocean and" in result.stdout
    assert "1,925 bytes" in result.stdout


def test_models_lists_every_family_and_option():
    result = run("models")
    assert result.exit_code == 0
    for word in ("gzip", "zstd", "lzma", "bz2", "ppmd", "png", "flac", "llm", "level", "context_window", "device", "width"):
        assert word in result.stdout


def test_sample_defaults_run_on_the_bundled_prose():
    result = run("sample", "--length", "30", "--seed", "0")
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout_bytes) == 30
    assert "prompt: the Wikipedia lead sections on Earth, Ocean, Tide" in result.stderr
    assert "30 bytes from gzip:level=9" in result.stderr


def test_same_seed_same_bytes_and_knobs_are_honoured():
    args = ("sample", "-m", "zstd", "-p", "The tides are", "-n", "25", "--temperature", "0.7", "--top-k", "40", "--top-p", "0.9")
    first = run(*args, "--seed", "3")
    assert first.exit_code == 0, first.stderr
    assert run(*args, "--seed", "3").stdout_bytes == first.stdout_bytes
    assert run(*args, "--seed", "4").stdout_bytes != first.stdout_bytes


def test_prompt_file_with_any_bytes_and_out_file(tmp_path):
    prompt = tmp_path / "notes.bin"
    prompt.write_bytes(bytes(range(256)) * 4)  # not UTF-8, made by this test
    out = tmp_path / "cont.bin"
    result = run("sample", "-m", "gzip:fast", "--prompt-file", str(prompt), "-n", "64", "--seed", "1", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes == b""
    assert len(out.read_bytes()) == 64
    # byte-exact: the same run to stdout (a pipe) gives the same bytes
    piped = run("sample", "-m", "gzip:fast", "--prompt-file", str(prompt), "-n", "64", "--seed", "1")
    assert piped.stdout_bytes == out.read_bytes()


def test_prompt_from_stdin():
    result = run("sample", "--prompt-file", "-", "-n", "5", "--seed", "0", input=b"abcabcabcabc")
    assert result.exit_code == 0 and len(result.stdout_bytes) == 5


def test_force_overwrites(tmp_path):
    out = tmp_path / "cont.txt"
    out.write_bytes(b"keep me")
    assert run("sample", "-n", "5", "--out", str(out)).exit_code == 1
    assert out.read_bytes() == b"keep me"
    assert run("sample", "-n", "5", "--out", str(out), "--force").exit_code == 0
    assert len(out.read_bytes()) == 5


@pytest.mark.parametrize(
    "args, message",
    [
        (["-m", "gzipp"], "unknown model 'gzipp'; known models: gzip, zstd, lzma, bz2, ppmd, llm, png, flac, ppm, ngram, mix (see `gencomp models`)"),
        (["-m", "gzip:level=11"], "gzip level must be 0..9, got 11"),
        (["-m", "png:width=0"], "png width must be 1..context_window (2048) pixels, got 0; a row must fit in the context (the paper's patches are 64 wide)"),
        (["-n", "-1"], "--length must be >= 0, got -1"),
        (["--temperature", "-1"], "--temperature must be >= 0, got -1.0"),
        (["--top-p", "0"], "--top-p must be in (0, 1], got 0.0"),
        (["--top-p", "1.5"], "--top-p must be in (0, 1], got 1.5"),
        (["--top-k", "-2"], "--top-k must be >= 0 (0 keeps every byte), got -2"),
        (["--prompt-file", "/nonexistent/notes.txt"], "/nonexistent/notes.txt does not exist"),
        (["--prompt-file", "/"], "/ is a folder, not a file"),
        (["-p", "a", "--prompt-file", "x"], "give either --prompt or --prompt-file, not both"),
        (["-m", "gzip", "--device", "cuda"], "gzip has no option 'device' (options: level, context_window, horizon, continuations, views, exponent, bonus, shuffled_views, pool, ends, adapt, paper, fast)"),
        (["--out", "/nonexistent/dir/out.txt"], "folder /nonexistent/dir does not exist"),
        (["--seed", "-1"], "--seed must be >= 0, got -1"),
        (["-m", "gzip:level=1,level=2"], "option level is given twice in 'gzip:level=1,level=2'"),
        (["-m", "llm:device=cpu", "--device", "cuda"], "--device is given twice: as --device cuda and inside the spec llm:device=cpu; give it once"),
        (["--prompt-file", "/nonexistent/notes[bold].txt"], "/nonexistent/notes[bold].txt does not exist"),  # not read as markup
    ],
)
def test_bad_input_is_one_line_and_non_zero(args, message):
    result = run("sample", "-n", "3", *args)
    assert result.exit_code != 0
    assert result.stdout == ""
    assert result.stderr.strip() == f"error: {message}"
    assert "Traceback" not in result.stderr


def test_unreadable_prompt_file():
    """/proc/self/mem exists but reading it from the start fails, even for root."""
    result = run("sample", "-n", "3", "--prompt-file", "/proc/self/mem")
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: cannot read /proc/self/mem: Input/output error"


def test_terminal_output_escapes_what_could_upset_a_terminal():
    import io

    from gencomp_cli.common import TerminalText

    screen = io.StringIO()
    shown = TerminalText(screen)
    for byte in b"ok\x1b[2J\xff\xe2\x82":  # ESC sequence, invalid byte, then a split '€'
        shown.write(bytes([byte]))
    shown.write(b"\xac", final=True)
    assert screen.getvalue() == "ok\\x1b[2J\\xff€"


@pytest.mark.parametrize(
    "args, message",
    [
        (["sample", "-n", "abc"], "error: Invalid value for '--length' / '-n': Input should be a valid integer"),
        (["sample", "--modality", "video"], "error: Invalid value for '--modality': 'video' is not one of 'text', 'image', 'audio'."),
        (["sample", "--no-such-option"], "error: No such option: --no-such-option"),
        (["compress", "notes.txt"], "error: Missing argument 'output'."),
        (["no-such-command"], "error: No such command 'no-such-command'."),
    ],
)
def test_command_line_mistakes_are_one_line_too(args, message):
    """typer's usage box (several lines, a frame) becomes the same one-line error as the rest."""
    result = run(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), result.stderr
    assert lines[0].endswith("--help`)")


def test_no_arguments_still_shows_the_help():
    result = run()
    assert result.exit_code == 2 and "Usage: gencomp" in result.stdout


def test_a_closed_pipe_ends_sample_quietly():
    """`gencomp sample | head -c 10`: no traceback and no error line once the reader has gone."""
    gencomp = Path(sys.executable).with_name("gencomp")
    process = subprocess.Popen([str(gencomp), "sample", "-m", "gzip:horizon=1", "-n", "100000", "-p", "abc"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.read(10)
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 1
    assert "Traceback" not in stderr and "error" not in stderr


# ------------------------------------------------------------------ gencomp evaluate


@pytest.fixture
def tiny_data(tmp_path):
    data = tmp_path / "notes.txt"
    data.write_bytes(b"the tide comes in and the tide goes out; " * 3)  # made by this test
    return data


def evaluate(*args: str):
    return run("evaluate", "--no-classical", "-m", "gzip:horizon=1", "--limit", "1", "--workers", "1", *args)


def test_evaluate_does_not_overwrite_json_or_csv_without_force(tmp_path, tiny_data):
    for flag in ("--json", "--csv"):
        kept = tmp_path / f"kept.{flag[2:]}"
        kept.write_text("keep me")
        result = evaluate("--data", str(tiny_data), flag, str(kept))
        assert result.exit_code == 1 and result.stdout == ""
        assert result.stderr.strip() == f"error: {kept} exists; pass --force to overwrite it"  # before any work
        assert kept.read_text() == "keep me"
        result = evaluate("--data", str(tiny_data), flag, str(kept), "--force")
        assert result.exit_code == 0, result.stderr
        assert kept.read_text().startswith("{" if flag == "--json" else "row,")
        assert list(tmp_path.glob(".kept.*")) == []  # written through a temporary, renamed


@pytest.mark.parametrize(
    "args, message",
    [
        (["--json", "-", "--csv", "-"], "--json - and --csv - would both write to stdout; send one of them to a file"),
        (["--json", "/nonexistent/dir/r.json"], "folder /nonexistent/dir does not exist"),
        (["--json", "same.out", "--csv", "same.out"], "--json and --csv both name same.out"),
        (["--seed", "-1", "--sample", "1"], "--seed must be >= 0, got -1"),
        (["-m", "nosuch"], "unknown model 'nosuch'; known models: gzip, zstd, lzma, bz2, ppmd, llm, png, flac, ppm, ngram, mix (see `gencomp models`)"),
    ],
)
def test_evaluate_refuses_bad_outputs_and_models_before_any_work(args, message, tiny_data, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # relative names land here, should anything be written
    result = evaluate("--data", str(tiny_data), *args)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.strip() == f"error: {message}"  # one line: no data was read or coded yet


def test_evaluate_csv_to_stdout_is_only_csv(tiny_data):
    result = evaluate("--data", str(tiny_data), "--csv", "-")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("row,mapping,modality")
    assert "text: 1 of 1 chunk(s)" in result.stderr and "row," not in result.stderr


def test_evaluate_modality_must_be_in_the_data(tiny_data):
    result = evaluate("--data", str(tiny_data), "--modality", "image")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.strip() == "error: no image data to measure; --modality can be text, all"


def test_evaluate_codes_random_bytes_through_predictors_only_when_asked():
    """The default leaves the bundled random bytes to the classical rows (issue 11's
    15-minute default); --modality names what every row measures."""
    def columns(*args: str) -> dict[str, set[str]]:
        result = run("evaluate", "-m", "ngram", "--limit", "1", "--workers", "1", "--csv", "-", *args)
        assert result.exit_code == 0, result.stderr
        found: dict[str, set[str]] = {}
        for line in result.stdout.splitlines()[1:]:
            row, _, modality = line.split(",")[:3]
            found.setdefault(row, set()).add(modality)
        return found

    default = columns()
    assert default.pop("ngram → coder") == {"text", "image", "audio"}
    assert default["gzip (chunked)"] == {"text", "image", "audio", "random"}
    assert columns("-M", "random", "-M", "text", "--no-classical") == {"ngram → coder": {"text", "random"}}


def test_the_default_classical_rows_see_every_bundled_chunk_and_the_coded_ones():
    """With no --sample, --limit or --data the classical rows run on every bundled chunk
    (issue 11), and chunked again on the chunks the predictors coded: those rows are an
    explicit --sample run's classical rows, on the predictor's bytes."""
    def results(*args: str) -> dict[str, dict]:
        result = run("evaluate", "-m", "ngram", "-M", "image", "--workers", "1", "--json", "-", *args)
        assert result.exit_code == 0, result.stderr
        return {row["row"]: row for row in json.loads(result.stdout)["results"]}

    default, sampled = results(), results("--sample", str(DEFAULT_SAMPLE))
    assert default["gzip (chunked)"]["chunks"] == len(bundled_data()[1].chunks) == 823
    coded = {row.removesuffix(CODED_CHUNKS): r for row, r in default.items() if row.endswith(CODED_CHUNKS)}
    assert sorted(coded) == sorted(f"{codec} (chunked)" for codec in CODECS)
    for row, result in coded.items():
        assert (result["chunks"], result["raw_bytes"]) == (DEFAULT_SAMPLE, default["ngram → coder"]["raw_bytes"])
        assert result["compressed_bytes"] == sampled[row]["compressed_bytes"]
    assert not any(row.endswith(CODED_CHUNKS) for row in sampled)

"""`gencomp compress` / `gencomp decompress` through typer's CliRunner: data on stdout,
messages on stderr, one-line errors, no output file left behind on failure."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gencomp import container
from gencomp.datasets import text_corpus
from gencomp_cli.main import app

runner = CliRunner()
MODEL = "zstd:context_window=16"


@pytest.fixture(scope="module")
def text() -> bytes:
    return text_corpus().data[20_000:20_150]


@pytest.fixture
def files(tmp_path: Path, text: bytes) -> dict[str, Path]:
    original = tmp_path / "notes.txt"
    original.write_bytes(text)
    return {"in": original, "gcz": tmp_path / "notes.gcz", "out": tmp_path / "notes.out"}


def run(*args: str, input: bytes | None = None):
    return runner.invoke(app, list(args), input=input)


def compressed(files) -> Path:
    result = run("compress", "--model", MODEL, "--chunk-size", "64", str(files["in"]), str(files["gcz"]))
    assert result.exit_code == 0, result.stderr
    return files["gcz"]


def test_file_round_trip(files, text):
    result = run("compress", "--model", MODEL, "--chunk-size", "64", str(files["in"]), str(files["gcz"]))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "150 ->" in result.stderr and "ideal" in result.stderr and "3 chunk(s)" in result.stderr
    result = run("decompress", str(files["gcz"]), str(files["out"]))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert files["out"].read_bytes() == text


def test_stdin_to_stdout_both_ways(text):
    packed = run("compress", "--model", MODEL, "--stream", "-", "-", input=text)
    assert packed.exit_code == 0, packed.stderr
    assert packed.stdout_bytes.startswith(b"\x89GCZ")
    unpacked = run("decompress", "-", "-", input=packed.stdout_bytes)
    assert unpacked.exit_code == 0, unpacked.stderr
    assert unpacked.stdout_bytes == text


def test_existing_output_needs_force(files, text):
    gcz = compressed(files)
    files["out"].write_bytes(b"keep me")
    result = run("decompress", str(gcz), str(files["out"]))
    assert result.exit_code == 1
    assert "exists; pass --force" in result.stderr and result.stdout == ""
    assert files["out"].read_bytes() == b"keep me"
    result = run("decompress", "--force", str(gcz), str(files["out"]))
    assert result.exit_code == 0 and files["out"].read_bytes() == text


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda blob: blob[: len(blob) - 3], "truncated"),
        (lambda blob: blob[:40] + bytes([blob[40] ^ 4]) + blob[41:], "corrupted"),
        (lambda blob: blob[:-1] + bytes([blob[-1] ^ 1]), "payload is corrupted"),
        (lambda blob: b"plain text, not compressed\n", "not a gencomp file"),
    ],
    ids=["truncated", "header-bit", "payload-bit", "foreign"],
)
def test_damaged_input_is_one_line_error_and_no_output(files, damage, message):
    gcz = compressed(files)
    gcz.write_bytes(damage(gcz.read_bytes()))
    result = run("decompress", str(gcz), str(files["out"]))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not files["out"].exists()
    assert list(files["out"].parent.glob(".notes.out.*")) == []  # no temporary left either


def test_unknown_model_is_one_line_error(files):
    result = run("compress", "--model", "nosuch", str(files["in"]), str(files["gcz"]))
    assert result.exit_code == 1
    assert "unknown model 'nosuch'" in result.stderr and result.stdout == ""
    assert not files["gcz"].exists()


def test_missing_input_and_bad_options(files):
    result = run("compress", str(files["in"].with_name("missing.txt")), str(files["gcz"]))
    assert result.exit_code == 1 and "does not exist" in result.stderr
    result = run("compress", "--chunk-size", "0", str(files["in"]), str(files["gcz"]))
    assert result.exit_code == 1 and "--stream" in result.stderr
    result = run("decompress", "--workers", "0", str(files["in"]), str(files["out"]))
    assert result.exit_code == 1 and "--workers" in result.stderr


def test_compressed_data_is_not_sent_to_a_terminal(files, monkeypatch):
    monkeypatch.setattr("gencomp_cli.codec.to_terminal", lambda path: str(path) == "-")
    result = run("compress", str(files["in"]), "-")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.strip() == "error: compressed data would go to the terminal; redirect stdout or name an output file"


def test_file_names_in_errors_are_shown_verbatim(tmp_path):
    """Brackets in a path are not rich markup: notes[red].gcz is named as it is."""
    foreign = tmp_path / "notes[red].gcz"
    foreign.write_bytes(b"plain text, not compressed\n")
    result = run("decompress", str(foreign), str(tmp_path / "out"))
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.strip() == f"error: {foreign}: not a gencomp file (it does not start with the .gcz magic bytes)"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes[red].gcz"]


def test_a_file_for_another_model_version_is_refused_up_front(files):
    """The header names a zstd that is not the one installed: one line, nothing written,
    before any byte is decoded."""
    gcz = compressed(files)
    header, payload = container.unpack(gcz.read_bytes())
    gcz.write_bytes(container.pack(replace(header, fingerprint="zstd libzstd 0.0.1"), payload))
    result = run("decompress", str(gcz), str(files["out"]))
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("error: ") and "libzstd 0.0.1" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in files["out"].parent.iterdir()) == ["notes.gcz", "notes.txt"]

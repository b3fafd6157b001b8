"""`gencomp sample --modality image|audio` and `gencomp compare`, end to end with gzip on
bundled data (small patches, short audio). stdout and stderr are checked separately."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile
from PIL import Image
from typer.testing import CliRunner

from gencomp.modalities import SAMPLE_RATE
from gencomp_cli.main import app

SHORT_AUDIO = ["--prompt-seconds", "0.02", "--seconds", "0.002"]  # 320 samples given, 32 drawn


def run(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def error_line(result) -> str:
    """The error a failed command printed: the only line on stderr (no status line before
    it: options are checked before anything is loaded or said), and no traceback."""
    assert result.exit_code == 1 and result.stdout == ""
    assert "Traceback" not in result.stderr and result.exception.__class__ is SystemExit
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_image_continuation_png(tmp_path):
    out = tmp_path / "cont.png"
    result = run("sample", "--modality", "image", "--patch", "6x12", "--scale", "3", "--seed", "0", "--out", out)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "camera" in result.stderr and f"-> {out}" in result.stderr
    image = np.asarray(Image.open(out))
    assert image.shape == (18, 36) and image.dtype == np.uint8
    again = tmp_path / "again.png"
    run("sample", "--modality", "image", "--patch", "6x12", "--scale", "3", "--seed", "0", "--out", again)
    assert again.read_bytes() == out.read_bytes()


def test_image_png_to_stdout():
    result = run("sample", "--modality", "image", "--patch", "4x8", "--scale", "1", "--out", "-")
    assert result.exit_code == 0, result.stderr
    assert np.asarray(Image.open(io.BytesIO(result.stdout_bytes))).shape == (4, 8)


def test_image_output_is_not_overwritten_without_force(tmp_path):
    out = tmp_path / "cont.png"
    out.write_bytes(b"keep me")
    args = ["sample", "--modality", "image", "--patch", "4x8", "--out", out]
    assert "pass --force" in error_line(run(*args))
    assert out.read_bytes() == b"keep me"
    assert run(*args, "--force").exit_code == 0 and out.read_bytes().startswith(b"\x89PNG")


def test_colour_input_raster_mode_says_the_conversion(tmp_path):
    photo = tmp_path / "photo.jpg"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)).save(photo)
    out = tmp_path / "cont.png"
    result = run("sample", "--modality", "image", "--input", photo, "--patch", "8x8", "--at", "0,0", "--mode", "raster", "--keep-rows", "5", "--scale", "1", "--out", out)
    assert result.exit_code == 0, result.stderr
    assert "note: converted RGB image to grayscale" in result.stderr
    assert np.asarray(Image.open(out)).shape == (8, 8)


def test_audio_continuation_wav(tmp_path):
    out = tmp_path / "cont.wav"
    result = run("sample", "--modality", "audio", *SHORT_AUDIO, "--seed", "0", "--out", out)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "" and "speech" in result.stderr and "32 bytes" in result.stderr
    info = soundfile.info(str(out))
    assert (info.samplerate, info.channels, info.subtype, info.frames) == (SAMPLE_RATE, 1, "PCM_16", 352)


def test_stereo_44k_input_is_converted_and_said(tmp_path):
    source = tmp_path / "stereo.wav"
    soundfile.write(source, np.random.default_rng(0).uniform(-0.1, 0.1, (4410, 2)), 44_100)
    out = tmp_path / "cont.wav"
    result = run("sample", "--modality", "audio", "--input", source, *SHORT_AUDIO, "--bits", "16", "--out", out)
    assert result.exit_code == 0, result.stderr
    assert "note: mixed 2 channels to mono" in result.stderr and "note: resampled 44100 Hz" in result.stderr
    assert soundfile.info(str(out)).frames == 352


def test_text_mode_keeps_its_behaviour():
    result = run("sample", "-p", "abcabcabcabc", "-n", "6", "--temperature", "0")
    assert result.exit_code == 0 and result.stdout == "abcabc"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--modality", "image", "--input", "{bad_image}", "--out", "{out}.png"], "cannot read"),
        (["--modality", "image", "--input", "{bad_image}.missing", "--out", "{out}.png"], "neither a file nor one of the bundled images"),
        (["--modality", "image", "--patch", "600x20", "--out", "{out}.png"], "does not fit"),
        (["--modality", "image", "--patch", "32by64", "--out", "{out}.png"], "--patch takes ROWSxCOLS"),
        (["--modality", "image", "--out", "{out}.jpg"], "written as .png files"),
        (["--modality", "image"], "name the .png file"),
        (["--modality", "audio", "--input", "{bad_image}", "--out", "{out}.wav"], "cannot read"),
        (["--modality", "audio", "--prompt-seconds", "5", "--out", "{out}.wav"], "shorter than the 5 s prompt"),
        (["--modality", "audio", "--bits", "12", "--out", "{out}.wav"], "8 or 16 bits"),
        (["--modality", "image", "--seconds", "2", "--out", "{out}.png"], "--seconds is for --modality audio"),
        (["--modality", "audio", "--prompt", "hi", "--out", "{out}.wav"], "--prompt is for --modality text"),
        (["--input", "speech"], "--input is for --modality image or audio"),
        (["--modality", "image", "--temperature", "-1", "--out", "{out}.png"], "--temperature must be >= 0"),
        (["--modality", "image", "--seed", "-3", "--out", "{out}.png"], "--seed must be >= 0, got -3"),
        (["--modality", "image", "--patch", "4x8", "--keep-rows", "2", "--out", "{out}.png"], "--keep-rows is for --mode raster"),
        (["--modality", "image", "--patch", "4x8", "--mode", "raster", "--keep-rows", "9", "--out", "{out}.png"], "--keep-rows must be 0 to 3 for a 4-row patch, got 9"),
        (["--modality", "image", "--patch", "4x1", "--out", "{out}.png"], "--mode rows needs a patch at least 2 pixels wide"),
        (["--modality", "image", "--scale", "100000", "--out", "{out}.png"], "use --scale 181 or less"),
        (["--modality", "audio", "--seconds", "inf", "--out", "{out}.wav"], "--seconds must be a number > 0, got inf"),
        (["--modality", "audio", "--seconds", "0", "--out", "{out}.wav"], "--seconds must be a number > 0, got 0.0"),
        (["--modality", "audio", "--prompt-seconds", "nan", "--out", "{out}.wav"], "--prompt-seconds must be a number >= 0, got nan"),
    ],
)
def test_bad_input_is_one_line_error(tmp_path, args, message):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))  # a PNG signature and nothing sound after it
    filled = [a.format(bad_image=bad, out=tmp_path / "out") for a in args]
    assert message in error_line(run("sample", *filled))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.png"]  # nothing written


def test_compare_image_grid(tmp_path):
    result = run("compare", "--modality", "image", "--models", "gzip,zstd", "--patch", "6x12", "--scale", "2", "--seed", "3", "--out-dir", tmp_path / "results")
    assert result.exit_code == 0, result.stderr
    assert "seed 3" in result.stderr
    grid = np.asarray(Image.open(tmp_path / "results" / "image_comparison.png"))
    assert grid.ndim == 3 and grid.shape[1] > 4 * 24  # four panels of 24 px in a row
    assert "pass --force" in error_line(run("compare", "--modality", "image", "--models", "gzip", "--out-dir", tmp_path / "results"))


def test_compare_audio_files(tmp_path):
    result = run("compare", "--modality", "audio", "--models", "gzip,zstd:level=1,context_window=512", *SHORT_AUDIO, "--out-dir", tmp_path)
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gzip.wav", "index.html", "original.wav", "spectrograms.png", "zstd_level-1_context_window-512.wav"]
    assert all(soundfile.info(str(tmp_path / name)).frames == 352 for name in ("gzip.wav", "original.wav"))
    assert Image.open(tmp_path / "spectrograms.png").format == "PNG"


def test_compare_text_panels_and_markdown(tmp_path):
    result = run("compare", "--modality", "text", "--models", "gzip,bz2", "-p", "to be or not to be, ", "-n", "20", "--seed", "5", "--out-dir", tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "gzip" in result.stdout and "bz2" in result.stdout and "seed 5" in result.stdout
    page = (tmp_path / "text_comparison.md").read_text()
    assert "seed 5" in page and "## gzip (20 bytes)" in page and "to be or not to be" in page


def test_compare_refuses_bad_model_lists(tmp_path):
    assert "more than once" in error_line(run("compare", "--models", "gzip,gzip", "--out-dir", tmp_path))
    assert "unknown model" in error_line(run("compare", "--models", "gzip,nonsense", "--patch", "4x8", "--out-dir", tmp_path))
    assert "--out-dir" in error_line(run("compare", "--modality", "audio", "--models", "gzip"))
    assert list(tmp_path.iterdir()) == []


def test_audio_shorter_than_the_prompt_is_said_alone(tmp_path):
    short = tmp_path / "short.wav"
    soundfile.write(short, np.zeros(800), SAMPLE_RATE)  # 0.05 s, made by this test
    line = error_line(run("sample", "--modality", "audio", "--input", short, "--out", tmp_path / "out.wav"))
    assert line == f"error: {short} lasts 0.05 s, shorter than the 0.5 s prompt (--prompt-seconds)"
    line = error_line(run("compare", "--modality", "audio", "--models", "gzip", "--input", short, "--out-dir", tmp_path / "results"))
    assert "shorter than the 0.5 s prompt" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["short.wav"]


def test_binary_output_is_not_sent_to_a_terminal(monkeypatch):
    monkeypatch.setattr("gencomp_cli.sample.to_terminal", lambda path: str(path) == "-")
    line = error_line(run("sample", "--modality", "image", "--patch", "4x8", "--out", "-"))
    assert line == "error: the PNG file would go to the terminal; redirect stdout or name a file with --out"


def test_compare_device_goes_to_the_models_that_take_it():
    from gencomp_cli.compare import model_options

    assert model_options("gzip", device="cpu", dtype=None) == "gzip"
    assert model_options("llm", device="cpu", dtype="float32") == "llm:device=cpu,dtype=float32"
    assert model_options("nosuch", device="cpu") == "nosuch"  # loading it names the unknown model
    line = error_line(run("compare", "--modality", "text", "--models", "gzip,zstd", "--device", "cpu", "-p", "ab"))
    assert line == "error: --device is for language models; none of --models gzip,zstd takes it"


def test_compare_out_dir_below_a_file_is_refused_before_work(tmp_path):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file, not a folder")
    line = error_line(run("compare", "--modality", "image", "--models", "gzip", "--patch", "4x8", "--out-dir", blocker / "results"))
    assert line == f"error: cannot make {blocker / 'results'}: {blocker} is a file"

"""The HTML pages of `gencomp compare --out-dir` and `gencomp evaluate --html`, opened in a
real headless browser (Debian's Chromium driven by Playwright): the page loads without
console errors, every image decodes, every audio element has a duration, and a
screenshot is not blank. The runs are real (gzip, zstd, bz2 on bundled data or on small
files a test writes itself)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile
from PIL import Image
from typer.testing import CliRunner

from gencomp.evaluate import Result
from gencomp.modalities import SAMPLE_RATE
from gencomp.report import chart
from gencomp_cli.main import app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
INSTALL = "install it with `apt-get install chromium` (Debian; .ci/run does this) and `pip install playwright` (make does this)"
GENCOMP = Path(sys.executable).with_name("gencomp")
SHORT_AUDIO = ["--prompt-seconds", "0.02", "--seconds", "0.002"]  # 320 samples given, 32 drawn


def run(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module's pages; skipped (saying how to install it)
    where there is none."""
    sync_api = pytest.importorskip("playwright.sync_api", reason=f"no Playwright to drive a browser: {INSTALL}")
    if CHROMIUM is None:
        pytest.skip(f"no Chromium found to open the pages in: {INSTALL}")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--autoplay-policy=no-user-gesture-required"])
        yield chromium
        chromium.close()


def open_page(browser, path: Path, width: int = 1100) -> dict:
    """Load ``path`` and check what the issue asks of every page; what the browser saw."""
    page = browser.new_page(viewport={"width": width, "height": 800})
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: errors.append(f"fetched {request.url}") if not request.url.startswith(("file:", "data:")) else None)
    page.goto(path.absolute().as_uri(), wait_until="load")
    images = page.eval_on_selector_all("img", "els => els.map(e => [e.complete, e.naturalWidth, e.naturalHeight])")
    durations = page.eval_on_selector_all("audio", """els => Promise.all(els.map(e => e.readyState >= 1 ? e.duration :
        new Promise(done => { e.addEventListener('loadedmetadata', () => done(e.duration)); e.addEventListener('error', () => done(-1)); e.load(); })))""")
    shot = np.asarray(Image.open(io.BytesIO(page.screenshot(full_page=True))).convert("L"))
    text = page.inner_text("body")
    page.keyboard.press("Tab")  # the keyboard's first stop: the link past the navigation
    focused = page.evaluate("document.activeElement.textContent")
    page.close()
    assert errors == []
    assert all(done and width > 0 and height > 0 for done, width, height in images), images
    assert all(d > 0 for d in durations), durations
    assert (shot < 128).mean() > 0.01, "the screenshot is blank"  # dark text and images on white
    assert focused == "Skip to the results"
    return {"images": images, "durations": durations, "text": text}


def test_compare_image_page(browser, tmp_path):
    out = tmp_path / "results"
    result = run("compare", "--modality", "image", "--models", "gzip,zstd", "--patch", "6x12", "--seed", "3", "--out-dir", out)
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["image_comparison.png", "index.html"]
    seen = open_page(browser, out / "index.html")
    assert [(w, h) for _, w, h in seen["images"]] == [(12, 6)] * 4  # original, context, two models
    assert "seed\n3" in seen["text"] or "seed\t3" in seen["text"]
    table = [line.split("\t")[1:] for line in seen["text"].splitlines() if line.startswith(("gzip\t", "zstd\t"))]
    bits = [float(cell) for row in table for cell in row]
    assert len(bits) == 4 and all(0 < b < 16 for b in bits)  # each continuation under each compressor


def test_compare_audio_page(browser, tmp_path):
    result = run("compare", "--modality", "audio", "--models", "gzip:paper,zstd:paper", *SHORT_AUDIO, "--seed", "0", "--out-dir", tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "index.html" in {p.name for p in tmp_path.iterdir()}
    seen = open_page(browser, tmp_path / "index.html")
    frames = soundfile.info(str(tmp_path / "gzip_paper.wav")).frames  # 352: prompt and continuation
    assert seen["durations"] == pytest.approx([frames / SAMPLE_RATE] * 3, abs=1e-3)  # original and two models, as Chromium decodes them
    assert len(seen["images"]) == 1  # the spectrograms


def test_compare_text_page_shows_invalid_bytes_as_escapes(browser, tmp_path):
    prompt = tmp_path / "prompt.bin"
    prompt.write_bytes(b"caf\xc3\xa9 \xff\xfe <b>not bold</b> & ")  # made here: UTF-8, two invalid bytes, markup
    out = tmp_path / "out"
    result = run("compare", "--modality", "text", "--models", "gzip,bz2", "--prompt-file", prompt, "-n", "20", "--seed", "5", "--out-dir", out)
    assert result.exit_code == 0, result.stderr
    seen = open_page(browser, out / "index.html", width=390)  # a phone's width
    assert "café \\xff\\xfe <b>not bold</b> &" in seen["text"]  # shown as text, not run as markup


def test_evaluate_page(browser, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("the quick brown fox jumps over the lazy dog. " * 20)  # made here: 900 bytes, one chunk
    page, document = tmp_path / "rates.html", tmp_path / "rates.json"
    result = run("evaluate", "--data", text, "--model", "zstd:fast", "--workers", "1", "--html", page, "--json", document)
    assert result.exit_code == 0, result.stderr
    seen = open_page(browser, page)
    rates = json.loads(document.read_text())["results"]
    for row in rates:  # the page shows every rate the JSON holds
        assert f"{row['rate']:.1f}" in seen["text"]
    assert "paper, Table 1: Chinchilla 70B (chunked)" in seen["text"] and "8.3" in seen["text"]  # the paper's Table 1 beside ours
    assert "zstd:fast → coder" in seen["text"]


def test_evaluate_chart_axis_ends_at_the_largest_rate():
    """Two chunks of 8-bit speech gave the LLM 146% ±393 (docs/evaluate_chart.png): its
    whisker is cut at the axis's end instead of stretching the axis to 539%. The rows are
    made here."""
    wide = Result("llm → coder", "coder", "8-bit", "audio", 4096, 5980, 2, margin=3.93)
    narrow = Result("flac (chunked)", "FLAC", "8-bit", "audio", 4096, 1008, 2, margin=0.037)
    bars = {bar.label: bar for bar in chart("audio", [wide, narrow])["bars"]}
    assert chart("audio", [wide, narrow])["top"] == pytest.approx(100 * 5980 / 4096)
    assert bars["llm → coder"].width == pytest.approx(100)
    left, width = bars["llm → coder"].whisker
    assert left == 0 and width == pytest.approx(100)  # 146 - 393 < 0 up to the axis's end
    left, width = bars["flac (chunked)"].whisker
    assert left + width == pytest.approx(100 * (100 * 1008 / 4096 + 3.7) / (100 * 5980 / 4096))


def test_out_dir_with_other_files_is_refused_without_force(tmp_path):
    mine = tmp_path / "holiday.png"
    mine.write_bytes(b"a user's file")
    args = ["compare", "--modality", "image", "--models", "gzip", "--patch", "4x8", "--out-dir", tmp_path]
    result = run(*args)
    assert result.exit_code == 1 and result.stderr.splitlines() == [f"error: {tmp_path} holds other files (holiday.png); name a new or empty folder, or pass --force to write beside them"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["holiday.png"]
    assert run(*args, "--force").exit_code == 0
    assert mine.read_bytes() == b"a user's file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["holiday.png", "image_comparison.png", "index.html"]


def test_html_options_are_checked_before_work(tmp_path):
    existing = tmp_path / "page.html"
    existing.write_text("keep")
    line = run("evaluate", "--html", existing).stderr.strip()
    assert line == f"error: {existing} exists; pass --force to overwrite it" and existing.read_text() == "keep"
    assert run("evaluate", "--open").stderr.strip() == "error: --open shows the --html page; name its file with --html"
    assert run("compare", "--modality", "text", "-p", "ab", "--open").stderr.strip() == "error: --open shows --out-dir/index.html; name the folder with --out-dir"


def test_open_hands_the_page_to_the_browser(tmp_path):
    """$BROWSER (which Python's webbrowser honours) names a script made here that records its argument."""
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\necho "$1" > {opened}\n')
    browser.chmod(0o755)
    out = tmp_path / "out"
    env = {**os.environ, "BROWSER": str(browser)}
    done = subprocess.run([GENCOMP, "compare", "--modality", "text", "--models", "gzip", "-p", "ab", "-n", "5", "--out-dir", out, "--open"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert opened.read_text().strip() == (out / "index.html").absolute().as_uri()


def test_interrupted_compare_leaves_no_page(tmp_path):
    out = tmp_path / "out"
    child = subprocess.Popen([GENCOMP, "compare", "--modality", "text", "--models", "gzip", "-p", "once upon a time", "-n", "100000", "--out-dir", out],
                             stderr=subprocess.PIPE, text=True)
    assert "seed" in child.stderr.readline()  # sampling has started
    for _ in range(30):  # Ctrl-C, again if it landed where Python ignores it (a finaliser)
        child.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=2)
            break
    else:
        child.kill()
        pytest.fail("Ctrl-C did not stop compare within a minute")
    assert child.returncode != 0
    assert not out.exists() or list(out.iterdir()) == []  # no page, no temporary file

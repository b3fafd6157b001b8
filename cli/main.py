"""The `gencomp` command: each subcommand lives in its own module."""

from __future__ import annotations

import signal
from types import FrameType

import typer

from gencomp_cli.models import models
from gencomp_cli.sample import sample
from gencomp_cli.codec import compress, decompress
from gencomp_cli.evaluate import evaluate
from gencomp_cli.compare import compare
from gencomp_cli.common import OneLineErrors

app = typer.Typer(
    name="gencomp",
    cls=OneLineErrors,
    help="Prediction is compression: sample from and compress with compressors and language models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(sample)
app.command()(models)
app.command()(compress)
app.command()(decompress)
app.command()(evaluate)
app.command()(compare)


def _terminated(signum: int, frame: FrameType | None) -> None:
    """SIGTERM unwinds like Ctrl-C, so half-written outputs are removed and workers ended."""
    raise SystemExit(128 + signum)


def main() -> None:
    signal.signal(signal.SIGTERM, _terminated)
    app()

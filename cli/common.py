"""What every command shares: one-line errors, safe outputs, stderr progress and text."""

from __future__ import annotations

import codecs
import contextlib
import os
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Annotated, BinaryIO, Iterator, NoReturn, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn
from rich.text import Text
from typer.core import TyperGroup

try:  # recent typer vendors click
    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
except ImportError:  # older typer uses click itself
    from click.exceptions import ClickException, NoArgsIsHelpError, UsageError

from gencomp import ray_pool
from gencomp.workers import Pool
from gencomp.errors import GencompError, UnknownModelError
from gencomp.predictor import Predictor
from gencomp.progress import Advance, Track
from gencomp.render import printable_char

stderr = Console(stderr=True, highlight=False)


def fail(message: str) -> NoReturn:
    """Print one line on stderr and exit non-zero."""
    _error_line(message)
    raise typer.Exit(1)


def _error_line(message: str) -> None:
    # a Text, not markup: a path such as notes[1].txt must be shown as it is
    stderr.print(Text.assemble(("error:", "bold red"), " ", message), soft_wrap=True)


def say(text: str, dim: bool = True) -> None:
    """A status line on stderr, unwrapped and without markup (paths may hold brackets)."""
    stderr.print(text, style="dim" if dim else None, markup=False, soft_wrap=True)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn problems the user can fix into one-line errors (never a traceback)."""
    try:
        yield
    except UnknownModelError as error:
        fail(f"{error} (see `gencomp models`)")
    except GencompError as error:
        fail(str(error))
    except BrokenPipeError:
        # the reader of stdout has gone (`gencomp sample | head`): stop quietly, as cat does
        with contextlib.suppress(OSError, ValueError):  # stdout may have no file descriptor
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(1) from None
    except OSError as error:
        where = f": {error.filename}" if error.filename else ""
        fail(f"{error.strerror or error}{where}")
    except MemoryError:
        fail("not enough memory for this request; ask for less (a smaller --scale, --seconds, --length or input)")


class OneLineErrors(TyperGroup):
    """The `gencomp` group: a mistyped command line (an unknown option, a value that is
    not a number, a missing argument) gets the same one-line `error:` as every other bad
    input, instead of click's usage box."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except NoArgsIsHelpError:
            code = 2  # the help text is already printed, as click does
        except ClickException as error:
            if not standalone_mode:
                raise
            message = " ".join(error.format_message().replace("Value error, ", "").split())
            command = getattr(getattr(error, "ctx", None), "command_path", None)
            hint = f" (see `{command} --help`)" if isinstance(error, UsageError) and command else ""
            _error_line(f"{message}{hint}")
            code = error.exit_code
        except typer.Abort:
            if not standalone_mode:
                raise
            _error_line("aborted")
            code = 1
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else 0)


RayAddress = Annotated[
    Optional[str],
    typer.Option(
        "--ray",
        metavar="ADDRESS",
        help="Code the chunks on a Ray cluster instead of processes here, with the same output: auto (the RAY_ADDRESS "
        "cluster, or the one `ray start --head` runs here), local (start one here, about 5 s), or HOST:PORT. Each "
        "worker is an actor that loads the model once (one GPU each for device=cuda); --workers defaults to the "
        "cluster's CPUs (GPUs). Needs pip install 'gencomp[ray]' and the same gencomp and model on every node.",
        show_default=False,
    ),
]


@contextlib.contextmanager
def cluster(address: str | None) -> Iterator[Pool | None]:
    """The Ray pool at ``address`` for the block (None: no cluster, the local processes)."""
    if address is None:
        yield None
        return
    with contextlib.ExitStack() as stack:
        with user_errors(), stderr.status(Text(f"connecting to Ray ({address})…"), spinner="dots"):
            pool = stack.enter_context(ray_pool.cluster(address))
        yield pool


def worker_count(workers: int | None, pool: Pool | None, predictor: Predictor, default: int) -> int:
    """--workers, or its default: the cluster's slots for this predictor on Ray."""
    if workers is not None:
        return workers
    return pool.slots(predictor) if isinstance(pool, ray_pool.RayPool) else default


def read_input(path: Path) -> bytes:
    """Bytes of a file the user named, or stdin for '-'."""
    if str(path) == "-":
        return sys.stdin.buffer.read()
    if not path.exists():
        fail(f"{path} does not exist")
    if path.is_dir():
        fail(f"{path} is a folder, not a file")
    try:
        return path.read_bytes()
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror}")


def to_terminal(path: Path | None) -> bool:
    """Whether writing to ``path`` ('-': stdout) would put bytes on a terminal."""
    return path is not None and str(path) == "-" and sys.stdout.isatty()


def check_output(path: Path | None, force: bool) -> None:
    """Refuse, before any work starts, to overwrite what the user did not ask to replace."""
    if path is None or str(path) == "-":
        return
    if path.is_dir():
        fail(f"{path} is a folder; name a file")
    if path.exists() and not force:
        fail(f"{path} exists; pass --force to overwrite it")
    if not path.parent.exists():
        fail(f"folder {path.parent} does not exist")


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[BinaryIO]:
    """Write to a temporary file beside ``path`` and rename it into place only on success,
    so a failed or interrupted run leaves no half-written file behind."""
    if str(path) == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            yield file
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp's 0600 is for secrets, not results
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def open_in_browser(path: Path) -> None:
    """Show a page in the user's web browser; where there is none, say where the page is
    (a missing browser is not an error: the page was written)."""
    import webbrowser

    try:
        opened = webbrowser.open(path.absolute().as_uri())
    except webbrowser.Error:
        opened = False
    if not opened:
        say(f"no web browser found; open {path} in one", dim=False)


def progress(enabled: bool = True, speed: bool = False) -> Progress:
    """A progress bar on stderr, shown only when stderr is a terminal; ``speed`` adds bytes/s."""
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        *([TransferSpeedColumn()] if speed else []),
        console=stderr,
        transient=True,
        disable=not (enabled and stderr.is_terminal),
    )


@contextlib.contextmanager
def bar(name: str, total: int, done: int = 0, speed: bool = False) -> Iterator[Advance]:
    """A stderr progress bar for one piece of the library's work (a :class:`Track`)."""
    with progress(speed=speed) as shown:
        task = shown.add_task(name, total=total, completed=done)
        yield partial(shown.advance, task)


def timed(track: Track, line: str) -> Track:
    """``track``, saying when each piece ends how long it took: ``line`` is formatted
    with the piece's ``name`` and ``seconds``."""

    @contextlib.contextmanager
    def timed_track(name: str, total: int, done: int = 0) -> Iterator[Advance]:
        start = time.perf_counter()
        with track(name, total, done) as advance:
            yield advance
        say(line.format(name=name, seconds=time.perf_counter() - start))

    return timed_track


class TerminalText:
    """Shows a byte stream as text that cannot upset a terminal: invalid UTF-8 and control
    characters (other than newline and tab) appear as backslash escapes."""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stdout
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="backslashreplace")

    def write(self, data: bytes, final: bool = False) -> None:
        text = self.decoder.decode(data, final)
        self.stream.write("".join(map(printable_char, text)))
        self.stream.flush()

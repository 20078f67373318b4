"""What several commands share: the stderr console, device and threads, the --config callback and the click options that train, eval and tag have alike.

torch is imported only inside the functions that need it, so importing this module stays cheap.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import click

from seqtag.config import load_toml
from seqtag.errors import UsageError
from seqtag.lines import ENCODING_ERRORS
from seqtag.read import FILE_FORMATS

INPUT_FORMATS = ("raw", "tokenized", *FILE_FORMATS)  # what `tag` reads
LABELED_FORMATS = ("auto", *FILE_FORMATS)  # what `train` and `eval` read


def stderr_console(quiet: bool):
    from rich.console import Console

    return Console(stderr=True, quiet=quiet, highlight=False, soft_wrap=True)


def resolve_device_and_threads(name: str, threads: int | None):
    """The torch device for ``--device`` (auto, cpu, cuda), after setting ``--threads``."""
    from seqtag.device import resolve_device, set_threads

    set_threads(threads)
    return resolve_device(name)


# --device of the commands that tag with a saved model (tag, eval -m).
TAGGING_DEVICE_HELP = (
    "cpu: tag with numpy alone (torch is never imported, so a short job starts in a fraction of "
    "a second); cuda: with torch on the GPU; auto: the GPU when there is one."
)


def device_option(help: str | None = None):
    """--device for a command; eval and tag show it without help, train with its own."""
    return click.option(
        "--device",
        type=click.Choice(["auto", "cpu", "cuda"]),
        default="auto",
        show_default=True,
        help=help,
    )


threads_option = click.option(
    "--threads",
    type=click.IntRange(1),
    default=None,
    help="CPU threads [default: one per core]; 1 when several jobs share the machine.",
)


def encoding_errors_option(help: str | None = None):
    """--encoding-errors for a command; eval and tag show it without help, train with its own."""
    return click.option(
        "--encoding-errors",
        type=click.Choice(ENCODING_ERRORS),
        default="strict",
        show_default=True,
        help=help,
    )


def model_option(help: str, required: bool = True):
    """-m/--model FILE, the model file a command reads."""
    return click.option(
        "-m",
        "--model",
        "model_file",
        type=click.Path(dir_okay=False),
        required=required,
        help=help,
    )


input_format_option = click.option(
    "-i",
    "--input-format",
    type=click.Choice(LABELED_FORMATS),
    default="auto",
    show_default=True,
    help="conllu; iob2 (Universal NER: tab-separated ID, token, tag, ...); columns (CoNLL-2003 "
    "style: token first, whitespace-separated, tag last); auto tells them apart.",
)
no_tag_dictionary_option = click.option(
    "--no-tag-dictionary",
    "without_tag_dictionary",
    is_flag=True,
    help="Tag without the model's tag dictionary (train --tag-dictionary), with the network's "
    "own choices: to see what the dictionary changes.",
)
tag_column_option = click.option(
    "--tag-column",
    type=click.IntRange(1),
    default=None,
    help="Column files: the field (1-based) that holds the tag [default: last; iob2: 3].",
)


def load_config(ctx: click.Context, _param: click.Parameter, value: str | None):
    """Eager --config: the file's values become click defaults, so the command line wins."""
    if value is not None:
        valid = [p.name for p in ctx.command.params if p.name not in ("config", "train_file")]
        ctx.default_map = {**(ctx.default_map or {}), **load_toml(value, valid)}
    return value


@contextlib.contextmanager
def usage_errors() -> Iterator[None]:
    """Library usage errors (options that do not go together) as click's, exit status 2."""
    try:
        yield
    except UsageError as error:
        raise click.UsageError(error.message) from None


def format_seconds(seconds: float) -> str:
    minutes, seconds = divmod(int(round(seconds)), 60)
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"

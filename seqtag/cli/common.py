"""What several commands share: the stderr console, device and threads, the --config callback and the click options that train, eval and tag have alike.

torch is imported only inside the functions that need it, so importing this module stays cheap.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator

import click

from seqtag.config import load_toml, option_fields
from seqtag.errors import SeqtagError, UsageError
from seqtag.lines import ENCODING_ERRORS
from seqtag.read import FILE_FORMATS

INPUT_FORMATS = ("auto", "raw", "tokenized", *FILE_FORMATS)  # what `tag` reads
LABELED_FORMATS = ("auto", *FILE_FORMATS)  # what `train` and `eval` read


def stderr_console(quiet: bool):
    from rich.console import Console

    return Console(stderr=True, quiet=quiet, highlight=False, soft_wrap=True)


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


def _threads_now(ctx: click.Context, param: click.Parameter, value: int) -> int:
    """numpy's BLAS reads its thread count once, when numpy loads: set it while the command
    line is parsed, before any command imports numpy (torch's is set where torch loads)."""
    from seqtag.device import set_blas_threads

    set_blas_threads(value)
    return value


threads_option = click.option(
    "--threads",
    type=click.IntRange(1),
    default=1,
    show_default=True,
    callback=_threads_now,
    help="CPU threads of torch and numpy. Threads wait for each other at every step, so "
    "beside any other busy process more than one runs many times slower (measured: quick-start "
    "training over 2.5x slower on 2 threads, 1.1x on 1); on cores kept free for this job, 2 "
    "trained 1.3x faster and tagged no faster. --jobs is the better use of several cores.",
)


def _cpus_for_zero(ctx: click.Context, param: click.Parameter, value: int) -> int:
    if value == 0:
        from seqtag.device import available_cpus

        return available_cpus()
    return value


def jobs_option(what: str):
    """-j/--jobs N: worker processes (tag, train); 0 for one per CPU this process may use."""
    return click.option(
        "-j",
        "--jobs",
        type=click.IntRange(0),
        default=1,
        show_default=True,
        callback=_cpus_for_zero,
        help=what + " 0: one per CPU this process may use (its affinity, as taskset or a "
        "Slurm job sets it, and a container's CPU quota). Processes, unlike threads, do not "
        "wait for each other, so a busy machine slows them only by the CPU time it takes.",
    )


encoding_errors_option = click.option(
    "--encoding-errors",
    type=click.Choice(ENCODING_ERRORS),
    default="strict",
    show_default=True,
    help="strict: stop at invalid UTF-8, naming its line; replace: go on with U+FFFD.",
)


def model_option(help: str, required: bool = True):
    """-m/--model FILE, the model file a command reads."""
    return click.option(
        "-m",
        "--model",
        "model_file",
        type=click.Path(),
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
tagging_input_option = click.option(
    "-i",
    "--input-format",
    type=click.Choice(INPUT_FORMATS),
    default="auto",
    show_default=True,
    help="auto: CoNLL-U, a column file whose tags are the model's, or else raw text, told "
    "from the first lines; raw: plain text, split and tokenized here; tokenized: one sentence "
    "a line, tokens split on spaces; conllu: fill the model's column; columns: CoNLL-2003 "
    "style, token first (tag field replaced or added); iob2: Universal NER (ID, token, tag, ...).",
)


def tokenizer_options(command):
    """--tokenizer and --tokenizer-model: how raw text is split (tag, select)."""
    command = click.option(
        "--tokenizer-model",
        type=click.Path(dir_okay=False),
        default=None,
        help="Split raw text with the segmenter of this other model file (e.g. a UD treebank's "
        "for an NER model of the same language, which has none of its own).",
    )(command)
    return click.option(
        "--tokenizer",
        type=click.Choice(("auto", "model", "rules")),
        default="auto",
        show_default=True,
        help="How raw text becomes sentences and words: model, the segmenter learned from the "
        "training treebank (its words, multiword tokens split); rules, seqtag's language-neutral "
        "rules (punctuation split off, a period ends a sentence); auto, the model's where it has "
        "one (seqtag info says), else the rules.",
    )(command)


def load_segmenter(model_file: str, tokenizer: str, tokenizer_model: str | None):
    """The segmenter raw text is split with (segmenter.engine.Segmenter), or None for the
    rules; an error where one was asked for and the model file has none."""
    from seqtag.segmenter.engine import read_segmenter

    if tokenizer == "rules":
        if tokenizer_model is not None:
            raise click.UsageError("--tokenizer-model goes with --tokenizer model or auto")
        return None
    source = tokenizer_model or model_file
    segmenter = read_segmenter(source)
    if segmenter is None and (tokenizer == "model" or tokenizer_model is not None):
        raise SeqtagError(
            "this model has no segmenter for raw text (it was trained on a column file, or "
            "with --no-tokenizer); use --tokenizer rules, or --tokenizer-model with a model "
            "trained on CoNLL-U of the language",
            source,
        )
    return segmenter


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


_FORMAT_NAMES = {"conllu": "CoNLL-U", "columns": "a column file", "iob2": "a Universal NER file"}


def read_tagging_input(lines, input_format: str, tag_column: int | None, tagger, segmenter=None):
    """The sentences of text to tag (tag, select) and the format they were read as: -i auto
    tells CoNLL-U, Universal NER and column files whose tags are the ``tagger``'s from raw
    text; -i raw on a file that looks like one of the others warns and reads text. Raw text is
    split by the ``segmenter`` (segmenter.engine.Segmenter), or by the rules without one."""
    from seqtag.read import (
        COLUMN_LAYOUTS,
        detect_tagging_input,
        read_columns,
        read_conllu,
        read_tokenized,
    )
    from seqtag.segmenter.engine import raw_sentences

    labels = {label for labels in tagger.vocabularies.label_sets for label in labels.to_list()}
    if input_format in ("auto", "raw"):
        detected = detect_tagging_input(lines, labels)
        if input_format == "raw" and detected != "raw":
            click.echo(
                f"Warning: {lines.name} looks like {_FORMAT_NAMES[detected]}; tagging it as raw "
                f"text as -i raw says (leave -i out to read it as {detected})",
                err=True,
            )
        elif input_format == "auto":
            input_format = "columns" if detected == "raw" and tag_column is not None else detected
    if tag_column is not None and input_format not in COLUMN_LAYOUTS:
        raise click.UsageError("--tag-column goes with -i columns or -i iob2")
    if input_format == "conllu":
        return read_conllu(lines), input_format
    if input_format in COLUMN_LAYOUTS:
        layout = COLUMN_LAYOUTS[input_format].with_tag_column(tag_column)
        return read_columns(lines, layout), input_format
    if input_format == "tokenized":
        return read_tokenized(lines), input_format
    numbered = ((lines.line_number, text) for text in lines)
    return raw_sentences(numbered, segmenter, lines.ready), input_format


def config_options(*config_classes: type):
    """The options of the config classes' fields (config.setting), in field order: each is
    declared once, in seqtag/config.py, with its default and help."""

    def decorate(command):
        fields = [f for cls in config_classes for f in option_fields(cls)]
        for field in reversed(fields):  # click lists options in the order applied, reversed
            command = _field_option(field)(command)
        return command

    return decorate


def _field_option(field: dataclasses.Field):
    meta, default = field.metadata, field.default
    long = "--" + field.name.replace("_", "-")
    show = meta.get("show_default", True)
    if isinstance(default, bool):
        flags = f"{long}/--no-{long[2:]}"
        return click.option(flags, default=default, show_default=show, help=meta["help"])
    if "choices" in meta:
        kind = click.Choice(meta.get("command_line_choices", meta["choices"]))
    elif isinstance(default, int):
        kind = click.IntRange(meta.get("minimum"), meta.get("maximum")) if _ranged(meta) else int
    else:
        kind = click.FloatRange(
            meta.get("minimum"),
            meta.get("maximum"),
            min_open=meta.get("min_open", False),
            max_open=meta.get("max_open", False),
        )
    return click.option(long, type=kind, default=default, show_default=show, help=meta["help"])


def _ranged(meta) -> bool:
    return meta.get("minimum") is not None or meta.get("maximum") is not None


def config_keys(command: click.Command) -> tuple[dict[str, str], dict[str, str]]:
    """The keys a --config file or preset of ``command`` may hold: each option's long name ->
    its parameter's name; and the older keys (the parameter's name, where it differs, e.g.
    ``dev-file``) -> today's."""
    keys, renamed = {}, {}
    for option in command.params:
        if not isinstance(option, click.Option) or option.name in ("config", "preset"):
            continue
        long = next(opt for opt in option.opts if opt.startswith("--"))[2:]
        keys[long] = option.name
        old = option.name.replace("_", "-")
        if old != long:
            renamed[old] = long
    return keys, renamed


def load_config(ctx: click.Context, param: click.Parameter, value: str | None):
    """Eager --config and --preset: the file's values become click defaults, so the command
    line wins; a --config file's values win over a preset's. Keys are the long option names
    (``dev``, ``max-epochs``); an option's older key (its parameter's name, e.g. ``dev-file``
    before it was ``dev``) is read with a warning."""
    if value is None:
        return value
    from seqtag.presets import AUTO, preset

    if param.name == "preset":
        ctx.meta["seqtag.preset_name"] = value
        if value == AUTO:  # chosen from the data once it is read (run.train_run)
            return value
    keys, renamed = config_keys(ctx.command)
    path = value
    if param.name == "preset":
        try:
            path = preset(value).path
        except SeqtagError as error:
            raise click.BadParameter(error.message) from None
    values, warnings = load_toml(path, keys, renamed)
    for warning in warnings:
        click.echo(f"Warning: {warning}", err=True)
    ctx.meta[f"seqtag.{param.name}"] = values
    preset_values, config_values = (
        ctx.meta.get("seqtag.preset", {}),
        ctx.meta.get("seqtag.config", {}),
    )
    ctx.default_map = {**preset_values, **config_values}
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

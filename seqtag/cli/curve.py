"""`seqtag curve`: train on growing shares of the training data, fit a learning curve, and say
what more annotation would bring (seqtag.curve does the arithmetic and the training)."""

from __future__ import annotations

import json
import statistics
from fractions import Fraction
from pathlib import Path

import click

from seqtag.cli.common import format_seconds, stderr_console, usage_errors
from seqtag.cli.train import _EpochDisplay, build_request
from seqtag.cli.train import train as train_command
from seqtag.errors import counted


def _shares(_ctx, _param, value: str) -> list[float]:
    try:
        return [float(Fraction(part.strip())) for part in value.split(",") if part.strip()]
    except (ValueError, ZeroDivisionError):
        raise click.BadParameter(
            f"{value!r}: give shares as fractions or decimals, comma-separated (1/8,1/4,0.5,1)"
        ) from None


def _multiples(_ctx, _param, value: str) -> list[float]:
    try:
        found = [float(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(f"{value!r}: give numbers, comma-separated (2,4)") from None
    if any(m <= 0 for m in found):
        raise click.BadParameter("multiples of the training data must be above 0")
    return found


@click.command("curve")
@click.option(
    "--test",
    "test_file",
    type=click.Path(dir_okay=False),
    help="Score every run on this file. Without it runs are scored on dev, which also stopped "
    "their training early: a little optimistic, the same for every point.",
)
@click.option(
    "--shares",
    default="1/16,1/8,1/4,1/2,1",
    show_default=True,
    callback=_shares,
    help="Shares of the training words to train on (at least three; 1 is all of it). Each is "
    "a prefix of one seeded shuffle of the sentences, so the smaller sets nest in the larger.",
)
@click.option(
    "--runs",
    type=click.IntRange(1),
    default=3,
    show_default=True,
    help="Runs per share, seeded --seed, --seed+1, ...: their spread is what the uncertainty "
    "of the prediction is made of. Training takes about runs x (sum of shares) times one "
    "`seqtag train` on all the data.",
)
@click.option(
    "--predict",
    "multiples",
    default="2,4",
    show_default=True,
    callback=_multiples,
    help="Predict the score for these multiples of today's training data.",
)
@click.option(
    "--target",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    help="Also say how many training words the curve needs to reach this score (e.g. 0.95).",
)
@click.option("--plot", "plot_file", type=click.Path(dir_okay=False),
              help="Draw the curve to this PNG file (needs matplotlib: pip install 'seqtag[plot]').")  # fmt: skip
@click.option(
    "--keep",
    "keep_dir",
    type=click.Path(file_okay=False),
    help="Keep each finished run's score in this directory: the same command run again (after "
    "Ctrl-C, or with more --runs or --shares) trains only what is missing.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
@click.pass_context
def curve(ctx, test_file, shares, runs, multiples, target, plot_file, keep_dir, as_json, quiet,
          **_options):  # fmt: skip
    """How much would more annotation help? Train on growing shares of TRAIN, fit a learning
    curve, and predict the score with more data.

    The sentences of TRAIN are shuffled (per run) and trained on in nested shares of its words
    (--shares), each run early stopping on --dev (without it, a seeded tenth of TRAIN, the same
    for every run) and scored on --test (or dev). The error rate is fitted as a * words^-b + c:
    every doubling of the data removes a fixed share of the error that data can remove. The
    prediction for --predict times the data comes with an 80% interval from refitting on
    resampled runs; extrapolating far beyond the data is guesswork, and the interval says so
    only in part. Takes the options of `seqtag train`; the preset is chosen once, from all of
    TRAIN, so that every point trains alike.

    \b
      seqtag curve train.conllu --dev dev.conllu --test test.conllu
      seqtag curve train.conllu --dev dev.conllu --target 0.95 --plot curve.png
      seqtag curve ner.txt --preset ner --runs 2 --keep curve-runs/ --json
    """
    from seqtag import curve as learning
    from seqtag.read import Column, read_labeled
    from seqtag.train import split_dev

    params = ctx.params
    if params["train_file"] is None:
        raise click.UsageError("give TRAIN, the tagged file to draw the curve of")
    column = Column.parse(params["column"] or "upos")
    if len(column.names) > 1:
        raise click.UsageError("curve scores one column at a time: give --column with one name")
    if plot_file:
        _need_matplotlib()
    console = stderr_console(quiet)
    display = _PointDisplay(console, quiet)
    with usage_errors():
        shares = learning.check_shares(shares)

        def read(path):
            return read_labeled(
                path, column, params["encoding_errors"], params["input_format"],
                params["tag_column"],
            )  # fmt: skip

        sentences, file_format = read(params["train_file"])
        sentences = [s for s in sentences if s.words]
        seed = params["seed"]
        if params["dev_file"]:
            dev = read(params["dev_file"])[0]
        else:
            sentences, dev = split_dev(sentences, params["dev_fraction"], seed)
            display.say(
                f"No --dev given: {counted(len(dev), 'sentence')} held out of "
                f"{params['train_file']} (seed {seed}) for early stopping, the same for every run."
            )
        scored, scored_on = (read(test_file)[0], test_file) if test_file else (dev, "dev")
        request = build_request(ctx, output=None, checkpoint_dir=None, resume_dir=None)
        request = _preset_for_all(request, sentences, display, params["train_file"])
        seeds = [seed + i for i in range(runs)]
        keep = None
        if keep_dir:
            keep = Path(keep_dir)
            keep.mkdir(parents=True, exist_ok=True)
        display.say(
            f"{counted(len(shares) * runs, 'training run')}: {len(shares)} shares of "
            f"{sum(len(s.words) for s in sentences):,} training words x {counted(runs, 'seed')}, "
            f"scored on {scored_on}."
        )
        try:
            points = learning.train_points(
                request, sentences, dev, scored, file_format, shares, seeds, display, keep
            )
        except KeyboardInterrupt:
            where = (
                f"the finished ones are kept in {keep_dir}: run the same command to go on"
                if keep_dir
                else "nothing kept (--keep DIR keeps finished runs)"
            )
            click.echo(f"Interrupted: {display.finished} runs finished; {where}.", err=True)
            raise SystemExit(130) from None
    result = _summary(points, multiples, target, scored_on)
    if plot_file:
        _plot(plot_file, points, result)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    _print(points, result)


def _preset_for_all(request, sentences, display, name: str):
    """The request with the preset chosen from all of the training data (when none was
    given), so that every share trains with the same settings."""
    import dataclasses

    from seqtag.presets import AUTO
    from seqtag.run import _chosen_preset
    from seqtag.scheme import span_scheme

    if request.preset != AUTO:
        return request
    scheme = span_scheme(sentences, request.scheme, request.repair, name, lambda _m: None)
    words = sum(len(s.words) for s in sentences)
    name, model_config, train_config = _chosen_preset(
        request, request.model, request.training, words, scheme is not None, display
    )
    return dataclasses.replace(request, preset=name, model=model_config, training=train_config)


def _summary(points, multiples, target, scored_on) -> dict:
    from seqtag import curve as learning

    pairs = learning.measured(points)
    fitted = learning.fit(pairs)
    largest = max(words for words, _ in pairs)  # the largest share's mean words
    sizes = [m * largest for m in multiples]
    intervals = learning.bootstrap(pairs, sizes) if fitted is not None else None
    predictions = []
    for i, (multiple, words) in enumerate(zip(multiples, sizes, strict=True)):
        if fitted is None:
            break
        predictions.append({
            "multiple": multiple, "words": round(words), "score": fitted.accuracy(words),
            "interval": list(intervals[i]) if intervals else None,
        })  # fmt: skip
    needed = None
    if target is not None and fitted is not None:
        words = fitted.words_for(target)
        needed = {"score": target, "words": None if words is None else round(words)}
    shares = []
    for share in sorted({p.share for p in points}):
        runs = [p for p in points if p.share == share]
        shares.append({
            "share": share, "words": round(statistics.mean(p.words for p in runs)),
            "runs": len(runs), "score": statistics.mean(p.score for p in runs),
            "sd": statistics.stdev(p.score for p in runs) if len(runs) > 1 else 0.0,
            **{key: _mean([getattr(p, key) for p in runs])
               for key in ("known_accuracy", "unknown_accuracy")},
            "seconds": round(sum(p.seconds for p in runs), 1),
        })  # fmt: skip
    return {
        "metric": points[0].metric,
        "scored_on": scored_on,
        "training_words": round(largest),
        "largest_share": max(p.share for p in points),
        "shares": shares,
        "runs": [vars(p) for p in points],
        "fit": fitted.to_dict() if fitted is not None else None,
        "predictions": predictions,
        "target": needed,
    }


def _mean(values):
    values = [v for v in values if v is not None]
    return statistics.mean(values) if values else None


def _print(points, result) -> None:
    from rich.console import Console
    from rich.table import Table

    from seqtag import curve as learning

    # Prose lines are not broken at 80 columns when piped: a terminal wraps them itself.
    console = Console(highlight=False, soft_wrap=True)
    table = Table(title=f"learning curve: {result['metric']} on {result['scored_on']}")
    for name in ("share", "words", "runs", "score", "sd", "known", "unseen", "time"):
        table.add_column(name, justify="right")
    for row in result["shares"]:
        known, unseen = row["known_accuracy"], row["unknown_accuracy"]
        table.add_row(
            str(Fraction(row["share"]).limit_denominator(64)), f"{row['words']:,}",
            str(row["runs"]), f"{row['score']:.4f}", f"{row['sd']:.4f}",
            "" if known is None else f"{known:.4f}", "" if unseen is None else f"{unseen:.4f}",
            format_seconds(row["seconds"]),
        )  # fmt: skip
    console.print(table)
    fitted = result["fit"]
    if fitted is None:
        console.print(
            "No curve fitted: the score did not rise with the data (or fewer than three "
            "shares), so nothing is predicted."
        )
        return
    fit = learning.Fit(**fitted)
    console.print(
        f"Fitted: error = {fit.a:.3g} x words^-{fit.b:.3g} + {fit.c:.3g} (root mean square "
        f"distance to the measured scores {fit.rmse:.4f})."
    )
    now = result["shares"][-1]
    data = "the training data" if result["largest_share"] == 1 else "the largest share's data"
    today = "today" if result["largest_share"] == 1 else "the largest share"
    for p in result["predictions"]:
        interval = p["interval"]
        spread = f" (80% interval {interval[0]:.4f}-{interval[1]:.4f})" if interval else ""
        console.print(
            f"With {p['multiple']:g} times {data} ({p['words']:,} words): "
            f"{p['score']:.4f}{spread}; {today} {now['score']:.4f} on {now['words']:,} words."
        )
    if result["target"] is not None:
        words = result["target"]["words"]
        if words is None:
            console.print(
                f"{result['target']['score']:g} is above the curve's ceiling "
                f"({1 - fit.c:.4f}): more of the same data will not reach it."
            )
        else:
            console.print(
                f"{result['target']['score']:g} needs about {words:,} training words by this "
                f"curve ({words / now['words']:.1f} times {data})."
            )
    until = max(p["words"] for p in result["predictions"]) if result["predictions"] else 0
    for line in learning.text_chart(points, fit, until):
        console.print(line, markup=False)


def _need_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise click.UsageError(
            "--plot needs matplotlib, which is not installed: pip install 'seqtag[plot]' "
            "(or leave --plot out: the terminal gets a text chart)"
        ) from None


def _plot(path: str, points, result) -> None:
    """The measured runs and the fitted curve, extrapolated with its interval, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from seqtag import curve as learning

    figure, axes = plt.subplots(figsize=(6, 4))
    axes.scatter([p.words for p in points], [p.score for p in points], s=14, label="runs")
    if result["fit"] is not None:
        fit = learning.Fit(**result["fit"])
        smallest = min(p.words for p in points)
        largest = max([result["training_words"], *(p["words"] for p in result["predictions"])])
        xs = [smallest * (largest / smallest) ** (i / 99) for i in range(100)]
        axes.plot(xs, [fit.accuracy(x) for x in xs], label="fitted curve")
        for p in result["predictions"]:
            if p["interval"]:
                axes.errorbar(
                    [p["words"]], [p["score"]],
                    yerr=[[p["score"] - p["interval"][0]], [p["interval"][1] - p["score"]]],
                    fmt="s", capsize=3, color="black",
                )  # fmt: skip
    axes.set_xscale("log")
    axes.set_xlabel("training words")
    axes.set_ylabel(f"score on {result['scored_on']}")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


class _PointDisplay(_EpochDisplay):
    """Progress on stderr: a line per training run, none per epoch."""

    def __init__(self, console, quiet: bool):
        super().__init__(console, quiet, progress=False)
        self.finished = 0

    def say(self, message: str) -> None:
        if message.startswith(("Preset", "Warning", "No --dev")) or "training run" in message:
            self.console.print(message)

    def on_point(self, number, total, point, share=None, seed=None, kept=False) -> None:
        if point is None:
            fraction = "all" if share == 1 else str(Fraction(share).limit_denominator(64))
            self.console.print(f"Run {number} of {total}: {fraction} of the data, seed {seed}.")
            return
        self.finished += 1
        how = "kept from before" if kept else format_seconds(point.seconds)
        self.console.print(
            f"Run {number} of {total}: {point.words:,} words, score {point.score:.4f} ({how})."
        )


_NOT_FOR_CURVE = {
    "train_file",
    "output",
    "checkpoint_dir",
    "resume_dir",
    "progress",
    "tokenizer",
    "related",
}
curve.params = [
    click.Argument(["train_file"], metavar="TRAIN", required=False, type=click.Path()),
    *(p for p in train_command.params if p.name not in _NOT_FOR_CURVE),
    *curve.params,
]

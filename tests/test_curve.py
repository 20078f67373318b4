"""Learning curves (seqtag.curve, `seqtag curve`): nested shares, the power-law fit and its
inverse, the bootstrap interval, the chart, and the command with --keep, --plot and Ctrl-C."""

from __future__ import annotations

import json
import math
import sys

import pytest
from click.testing import CliRunner
from conftest import DATA, TINY_ARCHITECTURE
from hypothesis import given, settings
from hypothesis import strategies as st

from seqtag.cli import main
from seqtag.curve import (
    Fit,
    Point,
    bootstrap,
    check_shares,
    fit,
    nested_shares,
    text_chart,
)
from seqtag.errors import UsageError
from seqtag.read import Sentence

TRAIN = DATA / "en_ewt-excerpt-train.conllu"
DEV = DATA / "en_ewt-excerpt-dev.conllu"


@settings(max_examples=50, deadline=None)
@given(
    lengths=st.lists(st.integers(1, 30), min_size=1, max_size=60),
    seed=st.integers(0, 5),
)
def test_shares_nest_and_hold_at_least_their_share_of_the_words(lengths, seed):
    sentences = [Sentence(["w"] * n) for n in lengths]
    total = sum(lengths)
    shares = [1 / 8, 1 / 4, 1 / 2, 1.0]
    subsets = nested_shares(sentences, shares, seed)
    for smaller, larger in zip(subsets, subsets[1:], strict=False):
        assert larger[: len(smaller)] == smaller  # prefixes of one shuffle
    for share, subset in zip(shares, subsets, strict=True):
        words = sum(lengths[i] for i in subset)
        assert subset and words >= min(share * total, lengths[subset[0]])
        # the last sentence taken was needed: without it the share was not reached
        assert len(subset) == 1 or words - lengths[subset[-1]] < share * total
    assert sorted(subsets[-1]) == list(range(len(lengths)))
    assert nested_shares(sentences, shares, seed) == subsets


def test_the_fit_recovers_a_power_law_and_its_inverse():
    true = Fit(a=3.0, b=0.45, c=0.03, rmse=0.0)
    sizes = [500, 1000, 2000, 4000, 8000]
    fitted = fit([(n, true.accuracy(n)) for n in sizes])
    assert fitted is not None and fitted.rmse < 1e-3
    for n in (16000, 32000):  # extrapolated
        assert fitted.accuracy(n) == pytest.approx(true.accuracy(n), abs=2e-3)
    words = fitted.words_for(0.9)
    assert fitted.accuracy(words) == pytest.approx(0.9, abs=1e-9)
    assert fitted.words_for(1 - fitted.c + 1e-6) is None  # above the ceiling


def test_the_fit_is_at_least_as_close_as_any_floor_on_a_fine_grid():
    """Brute force over the floor c: no (a, b) least-squares line on a finer grid of c fits the
    mean errors better than fit's choice by more than the grid's step can explain."""
    points = [(300, 0.61), (300, 0.63), (600, 0.70), (1200, 0.74), (2400, 0.79), (4800, 0.80)]
    fitted = fit(points)
    sizes = sorted({n for n, _ in points})
    errors = [1 - sum(a for n2, a in points if n2 == n) / sum(1 for n2, _ in points if n2 == n)
              for n in sizes]  # fmt: skip

    def sse(a, b, c):
        return sum((a * n**-b + c - e) ** 2 for n, e in zip(sizes, errors, strict=True))

    best = sse(fitted.a, fitted.b, fitted.c)
    for step in range(2000):
        c = min(errors) * step / 2000
        xs, ys = [math.log(n) for n in sizes], [math.log(e - c) for e in errors]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
            (x - mx) ** 2 for x in xs
        )
        if -slope > 0:
            assert best <= sse(math.exp(my - slope * mx), -slope, c) + 1e-5


def test_no_fit_when_the_score_does_not_rise_or_there_are_too_few_sizes():
    assert fit([(100, 0.8), (200, 0.79), (400, 0.78)]) is None
    assert fit([(100, 0.7), (200, 0.8)]) is None
    assert fit([(100, 1.0), (200, 1.0), (400, 1.0)]) is None


def test_the_interval_surrounds_the_prediction_and_widens_with_the_distance():
    true = Fit(a=2.0, b=0.4, c=0.05, rmse=0.0)
    noise = [0.004, -0.006, 0.002]
    points = [(n, true.accuracy(n) + e) for n in (250, 500, 1000, 2000, 4000) for e in noise]
    fitted = fit(points)
    near, far = bootstrap(points, [8000, 64000])
    assert near[0] <= fitted.accuracy(8000) <= near[1]
    assert far[1] - far[0] > near[1] - near[0]
    assert bootstrap(points, [8000]) == bootstrap(points, [8000])  # seeded
    one_run = [(n, true.accuracy(n) + e) for n, e in zip((250, 500, 1000, 2000), noise + [0.0],
                                                         strict=True)]  # fmt: skip
    ((low, high),) = bootstrap(one_run, [4000])
    assert low <= high


def test_check_shares_sorts_and_refuses_what_cannot_make_a_curve():
    assert check_shares([1, 0.25, 0.5, 0.25]) == [0.25, 0.5, 1]
    with pytest.raises(UsageError, match="at least three"):
        check_shares([0.5, 1])
    with pytest.raises(UsageError, match="above 0 and at most 1"):
        check_shares([0, 0.5, 1])


def test_the_text_chart_marks_every_run_and_the_curve():
    points = [Point(s, 1, round(1000 * s), 10, 0.7 + 0.1 * s, None, None, 1.0)
              for s in (0.25, 0.5, 1.0)]  # fmt: skip
    fitted = fit([(p.words, p.score) for p in points])
    lines = text_chart(points, fitted, until=4000, width=40, height=8)
    assert len(lines) == 10 and all("|" in line for line in lines[:8])
    plot = "".join(lines[:8])
    assert plot.count("o") == 3 and "·" in plot and "-" in plot
    assert lines[-1].strip().startswith("250 words") and lines[-1].rstrip().endswith("4,000")


# The command.

TINY = [*TINY_ARCHITECTURE[:-2], "--ensemble", "1", "--max-epochs", "1"]


def _curve(*args, **kwargs):
    return CliRunner().invoke(
        main, ["curve", str(TRAIN), "--dev", str(DEV), "--shares", "1/4,1/2,1", *TINY,
               *map(str, args)], **kwargs,
    )  # fmt: skip


def test_curve_trains_each_share_fits_and_keeps_finished_runs(tmp_path):
    keep = tmp_path / "runs"
    result = _curve("--runs", "2", "--keep", keep, "--json", "--target", "0.99")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert [row["share"] for row in found["shares"]] == [0.25, 0.5, 1.0]
    assert all(row["runs"] == 2 for row in found["shares"])
    assert len(found["runs"]) == 6 and len(list(keep.glob("point-*.json"))) == 6
    words = [row["words"] for row in found["shares"]]
    assert words == sorted(words) and found["training_words"] == words[-1]
    again = _curve("--runs", "2", "--keep", keep, "--json")
    assert again.exit_code == 0
    assert again.stderr.count("kept from before") == 6 and "Run 1 of 6: 1/4" not in again.stderr
    assert json.loads(again.stdout)["runs"] == found["runs"]
    other = _curve("--runs", "1", "--keep", keep, "--json", "--hidden", "12")
    assert other.exit_code == 0, other.output
    assert "kept from before" not in other.stderr  # other settings: trained again


def test_curve_prints_a_table_a_prediction_and_a_chart(tmp_path):
    result = _curve("--runs", "1", "--test", DEV)
    assert result.exit_code == 0, result.output
    assert "learning curve: accuracy on" in result.stdout
    assert "3 training runs: 3 shares" in result.stderr


def test_curve_plot_writes_a_png_or_says_what_is_missing(tmp_path, monkeypatch):
    out = tmp_path / "curve.png"
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        pytest.skip("matplotlib is not installed")
    result = _curve("--runs", "1", "--plot", out)
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    missing = _curve("--runs", "1", "--plot", tmp_path / "other.png")
    assert missing.exit_code == 2 and "pip install 'seqtag[plot]'" in missing.stderr
    assert not (tmp_path / "other.png").exists()


def test_curve_refuses_bad_shares_and_exits_130_on_ctrl_c(tmp_path, monkeypatch):
    two = CliRunner().invoke(main, ["curve", str(TRAIN), "--shares", "1/2,1"])
    assert two.exit_code == 2 and "at least three shares" in two.stderr
    bad = CliRunner().invoke(main, ["curve", str(TRAIN), "--shares", "half"])
    assert bad.exit_code == 2 and "give shares as fractions" in bad.stderr

    import seqtag.run

    def interrupted(request, report):
        raise KeyboardInterrupt

    monkeypatch.setattr(seqtag.run, "train_run", interrupted)
    stopped = _curve("--runs", "1", "--keep", tmp_path / "k")
    assert stopped.exit_code == 130
    assert "Interrupted: 0 runs finished; the finished ones are kept in" in stopped.stderr


def test_curve_of_entity_labels_scores_entity_f1(tmp_path):
    from test_ner import as_column_file, synthetic

    train, dev = tmp_path / "train.txt", tmp_path / "dev.txt"
    train.write_text(as_column_file(synthetic(60, "iob2", seed=3)), encoding="utf-8")
    dev.write_text(as_column_file(synthetic(15, "iob2", seed=4)), encoding="utf-8")
    result = CliRunner().invoke(
        main, ["curve", str(train), "--dev", str(dev), "--shares", "1/4,1/2,1", "--runs", "1",
               "--json", *TINY],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert all(row["known_accuracy"] is not None for row in found["shares"])
    assert "Preset ner-ensemble, chosen from the data" in result.stderr
    assert found["metric"] == "f1"
    assert all(0 <= run["score"] <= 1 and run["metric"] == "f1" for run in found["runs"])


def test_runs_of_a_share_count_as_one_size_so_the_interval_resamples_them():
    from seqtag.curve import measured

    true = Fit(a=2.0, b=0.4, c=0.05, rmse=0.0)
    points = [
        Point(share, seed, words + seed, 1, true.accuracy(words) + 0.004 * (seed - 2), None,
              None, 1.0)
        for share, words in ((0.25, 500), (0.5, 1000), (1.0, 2000)) for seed in (1, 2, 3)
    ]  # fmt: skip
    pairs = measured(points)
    assert sorted({words for words, _ in pairs}) == [502, 1002, 2002]  # one size a share
    assert bootstrap(pairs, [4000]) != bootstrap(
        [(p.words, p.score) for p in points], [4000]
    )  # by seed, not by residual


def test_curve_prints_the_prediction_of_its_fit(monkeypatch):
    """The command's own arithmetic and wording, on runs whose scores follow a known curve."""
    import seqtag.curve

    true = Fit(a=2.0, b=0.4, c=0.05, rmse=0.0)

    def made_up(request, sentences, dev, scored, file_format, shares, seeds, report, keep):
        return [
            Point(share, seed, round(9323 * share), 1, true.accuracy(round(9323 * share))
                  + 0.002 * (seed - 2), None, None, 1.0)
            for seed in seeds for share in shares
        ]  # fmt: skip

    monkeypatch.setattr(seqtag.curve, "train_points", made_up)
    result = _curve("--target", "0.9")
    assert result.exit_code == 0, result.output
    out = result.stdout
    expected = true.accuracy(2 * 9323)
    line = next(x for x in out.splitlines() if x.startswith("With 2 times the training data"))
    assert "(18,646 words)" in line and abs(float(line.split(": ")[1].split()[0]) - expected) < 2e-3
    assert "80% interval" in line and "today" in line
    assert "0.9 needs about" in out and "times the training data)" in out
    assert out.count("o") >= 3 and "words" in out.splitlines()[-1]

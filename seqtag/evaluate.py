"""Evaluate: gold and predicted tags -> scores as a plain dict (JSON-ready, fractions in [0, 1]).

Token accuracy, per-label precision/recall/F1, accuracy split by words seen in training vs
unseen ones, and the confusions (gold label, predicted label, count), most frequent first. When the labels are BIO-style entity tags, entity-level precision/recall/F1 from
seqeval are added too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace

from seqtag.errors import SeqtagError
from seqtag.read import Sentence, split_tag
from seqtag.scheme import is_span_labels


def accuracy(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> float:
    total = sum(len(tags) for tags in gold)
    if total == 0:
        return 0.0
    pairs = zip(gold, predicted, strict=True)
    correct = sum(g == p for gs, ps in pairs for g, p in zip(gs, ps, strict=True))
    return correct / total


def check_aligned(
    gold: Sequence[Sentence], predicted: Sequence[Sentence], gold_name: str, pred_name: str
) -> None:
    """Predictions must have the same sentences and words as the gold file."""
    if len(gold) != len(predicted):
        raise SeqtagError(
            f"has {len(predicted)} sentences but the gold file {gold_name} has {len(gold)}",
            pred_name,
        )
    for g, p in zip(gold, predicted, strict=True):
        if g.words != p.words:
            raise SeqtagError(
                f"sentence words differ from the gold sentence at {gold_name}:{g.line}",
                pred_name,
                p.line,
            )


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


def score(
    gold: Sequence[Sentence],
    predicted: Sequence[Sequence[str]],
    is_known: Callable[[str], bool] | None = None,
    known_labels: Collection[str] | None = None,
) -> dict:
    """All scores for one column. ``is_known`` tells words seen in training; None: unknown.

    ``known_labels`` are the labels the tagger can predict (a model's label set); gold labels
    outside it are listed, sorted, as ``unseen_labels`` (None without ``known_labels``). Their
    tokens count as errors like any other: no prediction can match them.
    """
    counts = Counter()  # (kind, label) -> count
    confused: Counter[tuple[str, str]] = Counter()  # (gold, predicted) -> tokens, errors only
    correct = known_total = known_correct = 0
    tokens = 0
    for sentence, tags in zip(gold, predicted, strict=True):
        for word, gold_tag, pred_tag in zip(sentence.words, sentence.tags, tags, strict=True):
            tokens += 1
            hit = gold_tag == pred_tag
            correct += hit
            counts["gold", gold_tag] += 1
            counts["pred", pred_tag] += 1
            if hit:
                counts["hit", gold_tag] += 1
            else:
                confused[gold_tag, pred_tag] += 1
            if is_known is not None and is_known(word):
                known_total += 1
                known_correct += hit
    labels = sorted({label for _, label in counts})
    per_label = {}
    for label in labels:
        precision = _ratio(counts["hit", label], counts["pred", label])
        recall = _ratio(counts["hit", label], counts["gold", label])
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "support": counts["gold", label],
        }
    unknown_total = tokens - known_total
    result = {
        "sentences": len(gold),
        "tokens": tokens,
        "accuracy": _ratio(correct, tokens),
        "known_tokens": known_total if is_known else None,
        "unknown_tokens": unknown_total if is_known else None,
        "known_accuracy": _ratio(known_correct, known_total) if is_known else None,
        "unknown_accuracy": _ratio(correct - known_correct, unknown_total) if is_known else None,
        "per_label": per_label,
        # Every confusion, most frequent first (then by gold and predicted label).
        "confusions": [
            {"gold": gold_tag, "predicted": pred_tag, "count": n}
            for (gold_tag, pred_tag), n in sorted(confused.items(), key=lambda i: (-i[1], i[0]))
        ],
        "unseen_labels": (
            None
            if known_labels is None
            else sorted({label for kind, label in counts if kind == "gold"} - set(known_labels))
        ),
    }
    if is_span_labels(labels):
        result.update(entity_scores([s.tags for s in gold], list(predicted)))
    return result


def score_columns(
    gold: Sequence[Sentence],
    predicted: Sequence[Sequence[str]],
    names: Sequence[str],
    is_known: Callable[[str], bool] | None = None,
    known_labels: Sequence[Collection[str]] | None = None,
) -> dict:
    """Scores of tags of several columns (joined, see read.Columns): the token accuracy of all
    columns together at the top (a token is right when every column is), and ``score`` of
    each column under ``columns``; ``known_labels`` has one label set per column."""
    both = score(gold, predicted, is_known)
    result = {key: both[key] for key in ("sentences", "tokens", "accuracy")}
    for key in ("known_tokens", "unknown_tokens", "known_accuracy", "unknown_accuracy"):
        result[key] = both[key]
    result["columns"] = {}
    for i, name in enumerate(names):
        column_gold = [replace(s, tags=[split_tag(t)[i] for t in s.tags]) for s in gold]
        column_predicted = [[split_tag(t)[i] for t in tags] for tags in predicted]
        labels = None if known_labels is None else known_labels[i]
        result["columns"][name] = score(column_gold, column_predicted, is_known, labels)
    return result


def entity_f1(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> float:
    """Micro entity F1, seqeval's default mode: the dev score for span labels."""
    from seqeval.metrics import f1_score

    return f1_score([list(g) for g in gold], [list(p) for p in predicted], zero_division=0)


def entity_scores(gold: list[list[str]], predicted: list[list[str]]) -> dict:
    """Entity-level scores from seqeval: micro precision/recall/F1 of the default (lenient) mode
    at the top, macro averages, per entity type, and the same under ``strict`` (spans must
    follow the scheme of the gold tags exactly; IOB1 is read as IOB2 there, as seqeval cannot
    read it strictly)."""
    from seqeval.scheme import BILOU, IOB2, IOBES

    from seqtag.scheme import detect

    predicted = [list(p) for p in predicted]
    result = _seqeval_scores(gold, predicted)
    scheme = detect(gold) or "iob2"
    strict_scheme = {"iob1": IOB2, "iob2": IOB2, "iobes": IOBES, "bilou": BILOU}[scheme]
    try:
        strict = _seqeval_scores(gold, predicted, mode="strict", scheme=strict_scheme)
        result["strict"] = {"scheme": scheme, **strict}
    except ValueError:  # a tag that seqeval's strict reader cannot take (a mixed-scheme file)
        result["strict"] = None
    return result


def _seqeval_scores(gold: list[list[str]], predicted: list[list[str]], **mode) -> dict:
    from seqeval.metrics import classification_report, f1_score, precision_score, recall_score

    options = {**mode, "zero_division": 0}
    report = classification_report(gold, predicted, output_dict=True, **options)
    per_type = {
        name: {
            "precision": values["precision"],
            "recall": values["recall"],
            "f1": values["f1-score"],
            "support": int(values["support"]),
        }
        for name, values in report.items()
        if not name.endswith(" avg")
    }
    macro = report.get("macro avg", {})
    return {
        "precision": precision_score(gold, predicted, **options),
        "recall": recall_score(gold, predicted, **options),
        "f1": f1_score(gold, predicted, **options),
        "macro_precision": macro.get("precision", 0.0),
        "macro_recall": macro.get("recall", 0.0),
        "macro_f1": macro.get("f1-score", 0.0),
        "per_type": per_type,
    }

"""Evaluate: gold and predicted tags -> scores as a plain dict (JSON-ready, fractions in [0, 1]).

Token accuracy, per-label precision/recall/F1, and accuracy split by words seen in training vs
unseen ones. When the labels are BIO-style entity tags, entity-level precision/recall/F1 from
seqeval are added too.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence

from seqtag import SeqtagError
from seqtag.read import Sentence

_BIO = re.compile(r"O|[BIESLU]-.+")


def looks_like_spans(labels: Sequence[str]) -> bool:
    """True for entity tags in a BIO-family scheme (O, B-PER, I-PER, E-, S-, L-, U-)."""
    return any(label != "O" for label in labels) and all(_BIO.fullmatch(label) for label in labels)


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
) -> dict:
    """All scores for one column. ``is_known`` tells words seen in training; None: unknown."""
    counts = Counter()  # (kind, label) -> count
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
    }
    if looks_like_spans(labels):
        result.update(entity_scores([s.tags for s in gold], list(predicted)))
    return result


def entity_scores(gold: list[list[str]], predicted: list[list[str]]) -> dict:
    """Entity-level micro precision/recall/F1 and per type, seqeval's default (lenient) mode."""
    from seqeval.metrics import classification_report, f1_score, precision_score, recall_score

    report = classification_report(
        gold, [list(p) for p in predicted], output_dict=True, zero_division=0
    )
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
    return {
        "precision": precision_score(gold, predicted, zero_division=0),
        "recall": recall_score(gold, predicted, zero_division=0),
        "f1": f1_score(gold, predicted, zero_division=0),
        "per_type": per_type,
    }

import pytest

from seqtag import SeqtagError
from seqtag.evaluate import accuracy, check_aligned, score
from seqtag.read import Sentence

GOLD = [
    Sentence(["the", "cat", "sat"], ["DET", "NOUN", "VERB"]),
    Sentence(["a", "dog"], ["DET", "NOUN"]),
]
PRED = [["DET", "VERB", "VERB"], ["DET", "NOUN"]]


def test_accuracy_and_per_label_scores():
    result = score(GOLD, PRED, is_known={"the", "a", "dog"}.__contains__)
    assert result["accuracy"] == pytest.approx(4 / 5)
    assert result["tokens"] == 5 and result["sentences"] == 2
    assert result["known_accuracy"] == pytest.approx(1.0)  # the, a, dog
    assert result["unknown_accuracy"] == pytest.approx(1 / 2)  # cat wrong, sat right
    assert (result["known_tokens"], result["unknown_tokens"]) == (3, 2)
    noun = result["per_label"]["NOUN"]
    assert (noun["precision"], noun["recall"], noun["support"]) == (1.0, 0.5, 2)
    assert noun["f1"] == pytest.approx(2 / 3)
    verb = result["per_label"]["VERB"]
    assert (verb["precision"], verb["recall"], verb["support"]) == (0.5, 1.0, 1)
    assert "f1" not in result  # not entity labels


def test_without_training_words_the_split_is_absent():
    result = score(GOLD, PRED)
    assert result["known_accuracy"] is None and result["unknown_accuracy"] is None


def test_bio_labels_get_entity_scores():
    gold = [
        Sentence(
            ["Ada", "Lovelace", "wrote", "in", "London"], ["B-PER", "I-PER", "O", "O", "B-LOC"]
        )
    ]
    pred = [["B-PER", "I-PER", "O", "O", "O"]]
    result = score(gold, pred)
    assert result["precision"] == 1.0 and result["recall"] == 0.5
    assert result["f1"] == pytest.approx(2 / 3)
    assert result["per_type"]["PER"]["f1"] == 1.0 and result["per_type"]["LOC"]["recall"] == 0.0


def test_accuracy_of_nothing_is_zero():
    assert accuracy([], []) == 0.0


def test_predictions_must_align_with_gold():
    other = [
        Sentence(["the", "cat", "sat"], ["X"] * 3, line=1),
        Sentence(["a", "cow"], ["X"] * 2, line=6),
    ]
    with pytest.raises(SeqtagError, match="words differ from the gold sentence") as caught:
        check_aligned(GOLD, other, "g.conllu", "p.conllu")
    assert caught.value.line == 6
    with pytest.raises(SeqtagError, match="has 1 sentences but the gold file g.conllu has 2"):
        check_aligned(GOLD, other[:1], "g.conllu", "p.conllu")


def test_confusions_count_every_error_once_most_frequent_first():
    gold = [Sentence(["a", "b", "c", "d"], ["N", "V", "N", "A"]), Sentence(["e"], ["N"])]
    predicted = [["V", "V", "V", "N"], ["A"]]
    result = score(gold, predicted)
    assert result["confusions"] == [
        {"gold": "N", "predicted": "V", "count": 2},
        {"gold": "A", "predicted": "N", "count": 1},
        {"gold": "N", "predicted": "A", "count": 1},
    ]
    pairs = zip(gold, predicted, strict=True)
    errors = sum(g != p for s, tags in pairs for g, p in zip(s.tags, tags, strict=True))
    assert (
        sum(c["count"] for c in result["confusions"])
        == errors
        == round(5 * (1 - result["accuracy"]))
    )

from seqtag.read import Sentence
from seqtag.vocab import PAD, UNK, Vocab, Vocabularies


def test_reserved_ids_and_unknown_items():
    vocab = Vocab.build(["b", "a", "b"])
    assert vocab.items[:2] == ["<pad>", "<unk>"]
    assert (PAD, UNK) == (0, 1)
    assert vocab.encode("b") == 2  # most frequent first
    assert vocab.encode("a") == 3
    assert vocab.encode("never seen") == UNK
    assert "a" in vocab and "never seen" not in vocab and "<unk>" not in vocab
    assert vocab.decode(2) == "b"


def test_round_trip_through_plain_lists():
    vocab = Vocab.build(["x", "y", "y", "<unk>"])
    again = Vocab.from_list(vocab.to_list())
    assert again.items == vocab.items
    assert all(isinstance(item, str) for item in vocab.to_list())


def test_labels_have_no_reserved_ids():
    sentences = [Sentence(["a", "b"], ["X", "Y"]), Sentence(["c"], ["X"])]
    vocabularies = Vocabularies.build(sentences)
    assert vocabularies.labels.items == ["X", "Y"]
    assert vocabularies.labels.encode("Y") == 1
    restored = Vocabularies.from_dict(vocabularies.to_dict())
    assert restored.labels.items == ["X", "Y"]
    assert restored.words.items == vocabularies.words.items
    assert restored.chars.items == vocabularies.chars.items

import random

from seqtag.batch import IGNORE, MAX_WORD_CHARS, Batcher, inference_order, spell, training_order
from seqtag.config import ModelConfig
from seqtag.read import Sentence
from seqtag.vocab import PAD, UNK, Vocabularies

TRAIN = [Sentence(["the", "cat", "the"], ["D", "N", "D"]), Sentence(["a", "dog"], ["D", "N"])]


def test_batch_shapes_padding_and_distinct_forms():
    batcher = Batcher(Vocabularies.build(TRAIN))
    batch = batcher.batch(TRAIN, with_tags=True)
    assert batch.words.shape == (2, 3)
    assert batch.lengths.tolist() == [3, 2]
    assert batch.mask.tolist() == [[True, True, True], [True, True, False]]
    assert batch.words[1, 2].item() == PAD
    assert batch.tags[1, 2].item() == IGNORE
    # "the" appears twice but is spelled once: 4 distinct forms.
    assert batch.chars.shape[0] == 4
    assert batch.forms[0, 0].item() == batch.forms[0, 2].item()
    assert batch.char_lengths.tolist() == [3, 3, 1, 3]


def test_unknown_words_and_characters_map_to_unk():
    batcher = Batcher(Vocabularies.build(TRAIN))
    batch = batcher.batch([Sentence(["zebra"])])
    assert batch.words.tolist() == [[UNK]]
    assert UNK in batch.chars[0].tolist()
    assert batch.tags is None


def test_very_long_words_keep_prefix_and_suffix():
    word = "a" * 1000 + "xyz"
    spelled = spell(word)
    assert len(spelled) == MAX_WORD_CHARS
    assert spelled.endswith("xyz") and spelled.startswith("a")
    assert spell("short") == "short"


def test_training_order_covers_every_nonempty_sentence_once():
    sentences = [Sentence(["w"] * (i % 7)) for i in range(100)]
    batches = training_order(sentences, 8, random.Random(0))
    seen = sorted(i for batch in batches for i in batch)
    assert seen == [i for i in range(100) if i % 7]
    assert all(len(batch) <= 8 for batch in batches)
    assert batches != training_order(sentences, 8, random.Random(1))


def test_inference_order_caps_tokens_and_skips_empty_sentences():
    sentences = [Sentence(["w"] * n) for n in (5, 0, 3, 10, 1)]
    batches = list(inference_order(sentences, max_tokens=10))
    assert sorted(i for batch in batches for i in batch) == [0, 2, 3, 4]
    for batch in batches:
        longest = max(len(sentences[i].words) for i in batch)
        assert longest * len(batch) <= 10 or len(batch) == 1


def test_lowercase_word_keys_share_one_embedding_and_keep_characters():
    train = [Sentence(["The", "the", "Dog"], ["DET", "DET", "NOUN"])]
    config = ModelConfig(lowercase=True)
    vocabularies = Vocabularies.build(train, config)
    assert vocabularies.words.to_list() == ["the", "dog"]
    assert "D" in vocabularies.chars  # characters as written
    batcher = Batcher(vocabularies, config)
    the, dog = vocabularies.words.encode("the"), vocabularies.words.encode("dog")
    assert batcher.word_ids(["THE", "the", "DOG", "cat"]) == [the, the, dog, UNK]
    encoded = batcher.encode([Sentence(["THE", "Dog"])])
    assert encoded.words.tolist() == [[the, dog]] and encoded.spellings == ["THE", "Dog"]
    assert Batcher(vocabularies).word_ids(["THE"]) == [UNK]  # without --lowercase: as written

"""The tag dictionary (train --tag-dictionary): built from training words, saved and read back
with the vocabularies, kept to by both engines alike, and chosen on dev by `auto`."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from conftest import DATA, TINY_OPTIONS
from hypothesis import given
from hypothesis import strategies as st

from seqtag import Tagger, modelfile
from seqtag.batch import Batcher
from seqtag.cli import main
from seqtag.config import ModelConfig, TrainConfig
from seqtag.engine import load_tagger
from seqtag.lines import open_lines
from seqtag.model import build_network
from seqtag.numpy_engine import numpy_engine
from seqtag.read import Column, Sentence, read_conllu
from seqtag.tagdict import RULED_OUT, TagDictionary
from seqtag.torch_engine import TorchEngine
from seqtag.vocab import Vocab, Vocabularies

CPU = torch.device("cpu")
LABELS = Vocab(["ADJ", "DET", "NOUN", "VERB"], reserved=False)
TRAIN = [
    Sentence(["the", "run", "was", "long"], ["DET", "NOUN", "VERB", "ADJ"]),
    Sentence(["they", "run"], ["DET", "VERB"]),
    Sentence(["the", "long", "run"], ["DET", "ADJ", "NOUN"]),
]


def test_each_word_keeps_the_tags_it_had_and_forms_share_tag_sets():
    dictionary = TagDictionary.build(TRAIN, LABELS)
    assert len(dictionary) == 5  # the, run, was, long, they
    ids = {word: dictionary.tag_sets[index] for word, index in dictionary.forms.items()}
    assert ids["run"] == (LABELS.encode("NOUN"), LABELS.encode("VERB"))
    assert ids["the"] == ids["they"] == (LABELS.encode("DET"),)
    assert (
        len(dictionary.tag_sets) == 4
    )  # {DET}, {NOUN, VERB}, {VERB}, {ADJ}: "the" and "they" share


def test_penalties_rule_out_only_the_tags_a_known_word_never_had():
    dictionary = TagDictionary.build(TRAIN, LABELS)
    batch = [Sentence(["the", "Runs", "run"]), Sentence(["long"])]
    penalties = dictionary.penalties(batch, steps=4)
    assert penalties.shape == (2, 4, len(LABELS)) and penalties.dtype == np.float32
    allowed = penalties == 0
    assert allowed[0, 0].tolist() == [False, True, False, False]  # the: DET
    assert allowed[0, 1].all()  # "Runs" was never seen, in any case: free
    assert allowed[0, 2].tolist() == [False, False, True, True]  # run: NOUN or VERB
    assert allowed[0, 3].all() and allowed[1, 1:].all()  # padding adds nothing
    assert allowed[1, 0].tolist() == [True, False, False, False]  # long: ADJ
    assert set(np.unique(penalties)) == {0.0, np.float32(RULED_OUT)}


def test_a_form_not_seen_as_written_gets_the_tags_of_its_lowercase():
    train = [*TRAIN, Sentence(["The", "Long", "run"], ["DET", "NOUN", "VERB"])]
    dictionary = TagDictionary.build(train, LABELS)
    allowed = dictionary.penalties([Sentence(["THE", "Long", "LONG", "Run", "Was"])], 5)[0] == 0
    det, adj, noun, verb = (LABELS.encode(t) for t in ("DET", "ADJ", "NOUN", "VERB"))
    assert np.flatnonzero(allowed[0]).tolist() == [det]  # "the" and "The": both DET
    assert np.flatnonzero(allowed[1]).tolist() == [noun]  # seen as written: its own tags
    assert sorted(np.flatnonzero(allowed[2])) == sorted([adj, noun])  # "long" and "Long"
    assert sorted(np.flatnonzero(allowed[3])) == sorted([noun, verb])
    assert np.flatnonzero(allowed[4]).tolist() == [verb]
    older = TagDictionary(dictionary.n_labels, dictionary.tag_sets, dictionary.forms)
    assert (older.penalties([Sentence(["THE"])], 1) == 0).all()  # a file from before: exact


@given(
    st.lists(st.floats(-50, 50, width=32), min_size=len(LABELS), max_size=len(LABELS)),
    st.sampled_from(["the", "run", "was", "long", "they", "unseen"]),
)
def test_the_best_tag_after_penalties_is_one_the_word_had(scores, word):
    dictionary = TagDictionary.build(TRAIN, LABELS)
    row = np.array(scores, dtype=np.float32) + dictionary.penalties([Sentence([word])], 1)[0, 0]
    seen = {tag for s in TRAIN for w, tag in zip(s.words, s.tags, strict=True) if w == word}
    best = LABELS.decode(int(row.argmax()))
    if seen:
        assert best in seen
    else:
        assert best == LABELS.decode(int(np.argmax(scores)))  # an unseen word is left alone


@given(
    st.lists(
        st.lists(
            st.tuples(
                st.sampled_from(["a", "b", "c", "Ä", "", " "]), st.sampled_from(LABELS.to_list())
            ),
            max_size=6,
        ),
        max_size=8,
    )
)
def test_any_training_data_gives_each_word_exactly_its_tags_and_reads_back(pairs):
    sentences = [Sentence([w for w, _ in s], [t for _, t in s]) for s in pairs]
    dictionary = TagDictionary.build(sentences, LABELS)
    expected: dict[str, set[str]] = {}
    for sentence in sentences:
        for word, tag in zip(sentence.words, sentence.tags, strict=True):
            expected.setdefault(word, set()).add(tag)
    found = {
        w: {LABELS.decode(i) for i in dictionary.tag_sets[k]} for w, k in dictionary.forms.items()
    }
    assert found == expected
    lowered: dict[str, set[str]] = {}
    for word, tags in expected.items():
        lowered.setdefault(word.lower(), set()).update(tags)
    found_lowered = {
        w: {LABELS.decode(i) for i in dictionary.tag_sets[k]}
        for w, k in dictionary.lowercase.items()
    }
    assert found_lowered == lowered
    assert len(set(dictionary.tag_sets)) == len(dictionary.tag_sets)  # each set stored once
    stored = json.loads(json.dumps(dictionary.to_dict()))
    assert TagDictionary.from_dict(stored, len(LABELS)) == dictionary


def test_the_dictionary_travels_with_the_vocabularies_and_damage_is_caught():
    vocabularies = Vocabularies.build(TRAIN)
    assert "tag_dictionary" not in vocabularies.to_dict()  # none unless asked for
    kept = vocabularies.with_tag_dictionary(TRAIN)
    data = json.loads(json.dumps(kept.to_dict()))  # as the model file stores it
    read_back = Vocabularies.from_dict(data)
    assert read_back.tag_dictionary == kept.tag_dictionary
    assert read_back.to_dict() == kept.to_dict()
    assert kept.with_tag_dictionary(None).to_dict() == vocabularies.to_dict()
    data["tag_dictionary"]["tag_sets"][0] = [len(LABELS)]  # a label the model lacks
    with pytest.raises(ValueError, match="names a label the model lacks"):
        Vocabularies.from_dict(data)


def test_a_damaged_dictionary_in_a_model_file_is_reported_as_damage(tmp_path):
    config = ModelConfig(layers=1, hidden=8, word_dim=6, char_dim=4, char_hidden=5, affixes=0)
    vocabularies = Vocabularies.build(TRAIN, config).with_tag_dictionary(TRAIN)
    broken = dataclasses.replace(
        vocabularies,
        tag_dictionary=dataclasses.replace(vocabularies.tag_dictionary, forms={"the": 99}),
    )
    path = tmp_path / "broken.model"
    modelfile.save(path, build_network(config, vocabularies), broken, "upos", TrainConfig(), {})
    result = CliRunner().invoke(main, ["tag", "-m", str(path)], input="the run\n")
    assert result.exit_code == 1
    assert "damaged seqtag model file" in result.stderr and "points at no tag set" in result.stderr


@pytest.fixture(scope="module")
def excerpt() -> list[Sentence]:
    path = str(DATA / "en_ewt-excerpt-train.conllu")
    return list(read_conllu(open_lines(path), Column.parse("upos")))[:80]


@pytest.mark.parametrize("ensemble", [1, 3])
def test_both_engines_keep_to_the_dictionary_and_agree(tmp_path, excerpt, ensemble):
    """A network with random weights disagrees with training about most words: with the
    dictionary each training word gets one of its tags, words not in train are untouched, and
    the torch and numpy engines tag alike."""
    config = ModelConfig(
        layers=1, hidden=8, word_dim=6, char_dim=4, char_hidden=5, affixes=2, ensemble=ensemble
    )
    train, tagged = excerpt[:60], excerpt[60:] + [Sentence(["Zyzzyva", "the", "blorped"])]
    vocabularies = Vocabularies.build(train, config).with_tag_dictionary(train)
    torch.manual_seed(3)
    path = tmp_path / "random.model"
    modelfile.save(
        path, build_network(config, vocabularies), vocabularies, "upos", TrainConfig(), {}
    )

    with_dictionary = load_tagger(path, "cpu")
    without = load_tagger(path, "cpu", tag_dictionary=False)
    constrained, free = with_dictionary(tagged), without(tagged)
    seen: dict[str, set[str]] = {}
    seen_lowercased: dict[str, set[str]] = {}
    for sentence in train:
        for word, tag in zip(sentence.words, sentence.tags, strict=True):
            seen.setdefault(word, set()).add(tag)
            seen_lowercased.setdefault(word.lower(), set()).add(tag)
    known = changed = by_lowercase = 0
    for sentence, ours, theirs in zip(tagged, constrained, free, strict=True):
        for word, tag, free_tag in zip(sentence.words, ours, theirs, strict=True):
            if word in seen:
                known += 1
                assert tag in seen[word], word
                changed += tag != free_tag
            elif word.lower() in seen_lowercased:
                by_lowercase += 1
                assert tag in seen_lowercased[word.lower()], word
            else:
                assert tag == free_tag, word
    assert known > 100 and changed > 10 and by_lowercase > 0  # the test has something to show

    loaded = modelfile.load(path)
    batcher = Batcher(loaded.vocabularies, loaded.model.config)
    assert TorchEngine(loaded.model, batcher, CPU)(tagged) == constrained
    assert numpy_engine(modelfile.read_model(path))(tagged) == constrained
    words = [s.words for s in tagged]
    assert Tagger.load(path, "cpu").tag(words) == constrained  # the Python API alike
    assert Tagger.load(path, "cpu", tag_dictionary=False).tag(words) == free


def train_args(tmp_path, *extra: str) -> list[str]:
    return [
        "train",
        str(DATA / "en_ewt-excerpt-train.conllu"),
        "--dev",
        str(DATA / "en_ewt-excerpt-dev.conllu"),
        "-o",
        str(tmp_path / "m.model"),
        *TINY_OPTIONS,
        *extra,
    ]


def info_of(path) -> dict:
    return json.loads(CliRunner().invoke(main, ["info", "-m", str(path), "--json"]).stdout)


def dev_accuracy(path, *extra: str) -> float:
    result = CliRunner().invoke(
        main, ["eval", "-m", str(path), str(DATA / "en_ewt-excerpt-dev.conllu"), "--json", *extra]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["accuracy"]


def train_saying(tmp_path, choice: str) -> str:
    """Train on the excerpt with --tag-dictionary CHOICE; what training said (stderr)."""
    args = train_args(tmp_path, "--tag-dictionary", choice)
    args.remove("-q")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return result.stderr


def test_train_on_keeps_the_dictionary_and_eval_can_score_without_it(tmp_path):
    runner = CliRunner()
    said = train_saying(tmp_path, "on")
    assert "Tag dictionary of " in said and "kept." in said
    model = tmp_path / "m.model"
    info = info_of(model)
    assert info["train_config"]["tag_dictionary"] == "on"
    assert info["tag_dictionary_words"] > 1000
    with_it, without = dev_accuracy(model), dev_accuracy(model, "--no-tag-dictionary")
    assert with_it == pytest.approx(info["dev_score"], abs=1e-9)  # what training said it saved
    assert with_it != without
    tagged = runner.invoke(main, ["tag", "-m", str(model), "--no-tag-dictionary"], input="a b\n")
    assert tagged.exit_code == 0, tagged.output


def test_auto_keeps_the_dictionary_only_when_dev_says_so(tmp_path):
    """auto's decision is the better of the two dev scores that `seqtag eval` also gives."""
    said = train_saying(tmp_path, "auto")
    said = next(line for line in said.splitlines() if "Tag dictionary of" in line)
    with_it, without = (float(s.split()[0]) for s in said.split("accuracy ")[1].split(", "))
    info = info_of(tmp_path / "m.model")
    recorded = info["tag_dictionary_dev"]  # the file keeps both scores, unrounded
    assert (round(recorded["with"], 4), round(recorded["without"], 4)) == (with_it, without)
    assert recorded["without"] == pytest.approx(
        dev_accuracy(tmp_path / "m.model", "--no-tag-dictionary")
    )
    kept = "tag_dictionary_words" in info
    assert kept == (with_it > without)
    assert info["dev_score"] == pytest.approx(max(with_it, without), abs=1e-4)
    off = CliRunner().invoke(main, train_args(tmp_path, "--preset", "pos"))  # none built
    assert off.exit_code == 0 and "tag_dictionary_words" not in info_of(tmp_path / "m.model")


def test_auto_leaves_out_a_dictionary_that_changes_nothing_on_dev(tmp_path):
    """A dev set of words training never saw: the dictionary cannot change a tag there, the
    two dev scores tie, and auto keeps the simpler model."""
    dev = tmp_path / "dev.conllu"
    rows = [("Zyxo", "NOUN"), ("qwvi", "VERB"), ("blorpt", "ADJ")]
    dev.write_text(
        "".join(f"{i}\t{w}\t_\t{t}\t_\t_\t_\t_\t_\t_\n" for i, (w, t) in enumerate(rows, 1)) + "\n",
        encoding="utf-8",
    )
    args = train_args(tmp_path, "--tag-dictionary", "auto")
    args[args.index("--dev") + 1] = str(dev)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    info = info_of(tmp_path / "m.model")
    assert info["tag_dictionary_dev"]["with"] == info["tag_dictionary_dev"]["without"]
    assert "tag_dictionary_words" not in info and info["train_config"]["tag_dictionary"] == "auto"


def test_auto_leaves_out_a_dictionary_that_scores_lower_on_dev(monkeypatch):
    """The decision itself, on dev tags made up for it: lower with the dictionary, left out;
    "on" keeps it anyway. The saved dev score is always that of what is saved."""
    import seqtag.run
    from seqtag.run import Silent, settle_tag_dictionary

    class Said(Silent):
        def __init__(self):
            self.lines = []

        def say(self, message: str) -> None:
            self.lines.append(message)

    dev = [Sentence(["the", "run"], ["DET", "VERB"])]

    def predict(model, batcher, sentences, target):  # half right with a dictionary
        return [["DET", "NOUN"]] if batcher.vocabularies.tag_dictionary else [["DET", "VERB"]]

    monkeypatch.setattr(seqtag.run, "predict", predict)
    vocabularies, config = Vocabularies.build(TRAIN), ModelConfig(affixes=0)
    said = Said()
    left, score, both = settle_tag_dictionary(
        "auto", None, config, vocabularies, (TRAIN, dev, 1.0), CPU, said
    )
    assert left.tag_dictionary is None and score == 1.0 and both == {"with": 0.5, "without": 1.0}
    assert "dev accuracy 0.5000 with it, 1.0000 without: left out" in said.lines[0]
    kept, score, _ = settle_tag_dictionary(
        "on", None, config, vocabularies, (TRAIN, dev, 1.0), CPU, said
    )
    assert len(kept.tag_dictionary) == 5 and score == 0.5
    off, score, both = settle_tag_dictionary(
        "off", None, config, vocabularies, (TRAIN, dev, 1.0), CPU, said
    )
    assert off is vocabularies and score == 1.0 and both is None


def test_a_dictionary_is_for_plain_tags_of_one_column(tmp_path):
    runner = CliRunner()
    entities = tmp_path / "ner.txt"
    entities.write_text("Ada B-PER\nran O\n\nObi B-PER\nsat O\n", encoding="utf-8")
    args = ["train", str(entities), "-o", str(tmp_path / "n.model"), *TINY_OPTIONS]
    refused = runner.invoke(main, [*args, "--tag-dictionary", "on"])
    assert refused.exit_code == 2
    assert "--tag-dictionary is for plain tags of one column, not entity labels" in refused.stderr
    config = tmp_path / "c.toml"
    config.write_text('tag-dictionary = "on"\n', encoding="utf-8")
    from_config = runner.invoke(main, [*args[:-1], "--config", str(config)])  # less -q
    assert from_config.exit_code == 0, from_config.output
    assert "tag-dictionary on does not apply to entity labels" in from_config.stderr
    assert info_of(tmp_path / "n.model")["train_config"]["tag_dictionary"] == "off"
    columns = train_args(tmp_path, "--column", "upos,xpos", "--tag-dictionary", "on")
    refused = runner.invoke(main, columns)
    assert refused.exit_code == 2 and "not a model of 2 columns" in refused.stderr


def test_no_tag_dictionary_goes_with_a_model():
    result = CliRunner().invoke(
        main,
        ["eval", "--pred", str(DATA / "en_ewt-excerpt-dev.conllu"), "--no-tag-dictionary"]
        + [str(DATA / "en_ewt-excerpt-dev.conllu")],
    )
    assert result.exit_code == 2 and "--no-tag-dictionary goes with -m/--model" in result.stderr


def test_models_without_a_dictionary_tag_as_before(tiny_model):
    """Older files have none; --no-tag-dictionary on them changes nothing."""
    text = "The cat sat on the mat.\n"
    plain = CliRunner().invoke(main, ["tag", "-m", str(tiny_model), "-f", "tsv"], input=text)
    bare = CliRunner().invoke(
        main, ["tag", "-m", str(tiny_model), "-f", "tsv", "--no-tag-dictionary"], input=text
    )
    assert plain.exit_code == bare.exit_code == 0 and plain.stdout == bare.stdout


def test_resuming_with_the_command_that_started_the_run_keeps_working(tmp_path):
    """The run records the choice asked for, not the "off" that entity labels make of it, so
    the same command with --resume added is not refused as a changed option."""
    runner = CliRunner()
    entities = tmp_path / "ner.txt"
    entities.write_text("Ada B-PER\nran O\n\nObi B-PER\nsat O\n", encoding="utf-8")
    model, ckpt = tmp_path / "n.model", tmp_path / "ckpt"
    args = ["train", str(entities), "-o", str(model), *TINY_OPTIONS]
    args += ["--tag-dictionary", "auto", "--checkpoint", str(ckpt)]
    assert runner.invoke(main, args).exit_code == 0
    model.unlink()
    resumed = runner.invoke(main, [*args, "--resume", str(ckpt)])
    assert resumed.exit_code == 0, resumed.output
    assert info_of(model)["train_config"]["tag_dictionary"] == "off"  # what was done

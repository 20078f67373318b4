"""Transfer (seqtag.transfer, train --init/--related): what a new network takes from a model
trained before, row by row, and the command line around it."""

from __future__ import annotations

import dataclasses
import json
import re

import numpy
import pytest
import torch
from click.testing import CliRunner
from conftest import DATA, TINY_OPTIONS

from seqtag import modelfile
from seqtag.batch import Batcher
from seqtag.cli import main
from seqtag.config import ModelConfig
from seqtag.errors import UsageError
from seqtag.model import build_network
from seqtag.read import TAG_SEPARATOR, Sentence
from seqtag.transfer import NETWORK_SHAPE, Source, Start, file_sha256, shaped_like
from seqtag.vocab import PAD, UNK, Vocabularies

TRAIN = DATA / "en_ewt-excerpt-train.conllu"
DEV = DATA / "en_ewt-excerpt-dev.conllu"
CONFIG = ModelConfig(layers=1, hidden=8, word_dim=6, char_dim=4, char_hidden=5, affixes=2)


def sentences(*tagged: str) -> list[Sentence]:
    """Sentences from "word/TAG word/TAG" strings (several columns: TAG|TAG)."""
    out = []
    for text in tagged:
        pairs = [token.rsplit("/", 1) for token in text.split()]
        out.append(
            Sentence([w for w, _ in pairs], [t.replace("|", TAG_SEPARATOR) for _, t in pairs])
        )
    return out


SOURCE_DATA = sentences("Labas/INTJ rytas/NOUN ./PUNCT", "Gera/ADJ diena/NOUN")


def saved_source(tmp_path, train_set, config=CONFIG, column="upos", seed=0):
    """A model file of an untrained network (random weights are as good as trained ones for
    checking where each weight goes)."""
    torch.manual_seed(seed)
    vocabularies = Vocabularies.build(train_set, config, len(column.split(",")))
    network = build_network(config, vocabularies)
    path = tmp_path / f"source-{seed}.model"
    modelfile.save(path, network, vocabularies, column, _train_config(), {"train_words": 7})
    return path, network, vocabularies


def _train_config():
    from seqtag.config import TrainConfig

    return TrainConfig()


def built(train_set, config=CONFIG, columns=1, seed=1):
    torch.manual_seed(seed)
    vocabularies = Vocabularies.build(train_set, config, columns)
    return build_network(config, vocabularies), vocabularies


def test_the_same_vocabularies_give_the_source_network_exactly(tmp_path):
    train_set = sentences("a/DET cat/NOUN sat/VERB ./PUNCT", "the/DET dog/NOUN ran/VERB")
    path, source_network, _ = saved_source(tmp_path, train_set)
    network, vocabularies = built(train_set)
    start = Start.build(Source.read(str(path)), vocabularies, CONFIG, ("upos",))
    start.apply(network)
    theirs, ours = source_network.state_dict(), network.state_dict()
    assert theirs.keys() == ours.keys()
    for name in theirs:
        assert torch.equal(theirs[name], ours[name]), name
    batch = Batcher(vocabularies, CONFIG).batch(train_set)
    source_network.eval(), network.eval()
    assert torch.equal(source_network(batch), network(batch))


def test_rows_follow_the_strings_and_the_rest_keeps_its_random_start(tmp_path):
    source_set = sentences("a/DET cat/NOUN sat/VERB ./PUNCT", "dog/NOUN ran/VERB fast/ADV")
    target_set = sentences("the/DET dog/NOUN sat/VERB", "cats/NOUN purr/VERB !/PUNCT oh/INTJ")
    path, source_network, source_vocab = saved_source(tmp_path, source_set)
    network, vocab = built(target_set)
    before = {name: tensor.clone() for name, tensor in network.state_dict().items()}
    start = Start.build(Source.read(str(path)), vocab, CONFIG, ("upos",))
    start.apply(network)
    after, theirs = network.state_dict(), source_network.state_dict()

    def row(name, vocabulary_ours, vocabulary_theirs, item):
        return after[name][vocabulary_ours.index[item]], theirs[name][vocabulary_theirs.index[item]]

    for word in ("dog", "sat"):  # in both: the source's row
        ours, source_row = row("word_embed.weight", vocab.words, source_vocab.words, word)
        assert torch.equal(ours, source_row)
    for reserved in (PAD, UNK):
        assert torch.equal(
            after["word_embed.weight"][reserved], theirs["word_embed.weight"][reserved]
        )
    for word in ("the", "cats", "purr"):  # new: untouched
        i = vocab.words.index[word]
        assert torch.equal(after["word_embed.weight"][i], before["word_embed.weight"][i])
    for char in ("d", "o", "g"):
        ours, source_row = row("char_encoder.embed.weight", vocab.chars, source_vocab.chars, char)
        assert torch.equal(ours, source_row)
    i = vocab.chars.index["!"]
    assert torch.equal(
        after["char_encoder.embed.weight"][i], before["char_encoder.embed.weight"][i]
    )
    shared_affixes = set(vocab.affixes.to_list()) & set(source_vocab.affixes.to_list())
    for affix in shared_affixes:
        ours, source_row = row("affix_embed.weight", vocab.affixes, source_vocab.affixes, affix)
        assert torch.equal(ours, source_row)
    # Labels by name, whatever their ids: INTJ is new, the others are shared.
    assert vocab.labels.to_list() != source_vocab.labels.to_list()
    for label in ("DET", "NOUN", "VERB", "PUNCT"):
        for name in ("output.weight", "output.bias"):
            ours, source_row = row(name, vocab.labels, source_vocab.labels, label)
            assert torch.equal(ours, source_row)
    intj = vocab.labels.index["INTJ"]
    assert torch.equal(after["output.weight"][intj], before["output.weight"][intj])
    # Shapes that owe nothing to a vocabulary: whole.
    for name in after:
        if name.startswith(("rnn.", "char_encoder.rnn.")):
            assert torch.equal(after[name], theirs[name]), name
    assert "4 of 4 labels" not in start.summary and "4 of 5 labels" in start.summary


def test_several_columns_are_matched_by_name_and_a_crf_by_label_pairs(tmp_path):
    source_set = sentences("a/DET|DT cat/NOUN|NN sat/VERB|VBD")
    target_set = sentences("a/DT|DET dog/NN|NOUN ran/VBD|VERB")  # columns the other way round
    path, source_network, source_vocab = saved_source(tmp_path, source_set, column="upos,xpos")
    network, vocab = built(target_set, columns=2)
    start = Start.build(Source.read(str(path)), vocab, CONFIG, ("xpos", "upos"))
    start.apply(network)
    after, theirs = (
        network.state_dict()["output.weight"],
        source_network.state_dict()["output.weight"],
    )
    n_ours, n_theirs = len(vocab.labels), len(source_vocab.labels)
    for label in ("DET", "NOUN", "VERB"):  # our second column is their first
        assert torch.equal(
            after[n_ours + vocab.more_labels[0].index[label]],
            theirs[source_vocab.labels.index[label]],
        )
    for label in ("DT", "NN", "VBD"):
        assert torch.equal(
            after[vocab.labels.index[label]],
            theirs[n_theirs + source_vocab.more_labels[0].index[label]],
        )

    crf = dataclasses.replace(CONFIG, crf=True)
    source_set = sentences("Ann/B-PER Lee/I-PER saw/O Rome/B-LOC")
    target_set = sentences("Rome/B-LOC is/O big/O", "Kim/B-ORG and/O Ann/B-PER")
    path, source_network, source_vocab = saved_source(tmp_path, source_set, config=crf, seed=2)
    network, vocab = built(target_set, config=crf)
    Start.build(Source.read(str(path)), vocab, crf, ("misc:NER",)).apply(network)
    ours, theirs = network.state_dict(), source_network.state_dict()
    for a in ("B-LOC", "O", "B-PER"):
        i, k = vocab.labels.index[a], source_vocab.labels.index[a]
        assert torch.equal(ours["crf.start"][i], theirs["crf.start"][k])
        for b in ("B-LOC", "O", "B-PER"):
            j, m = vocab.labels.index[b], source_vocab.labels.index[b]
            assert torch.equal(ours["crf.transitions"][i, j], theirs["crf.transitions"][k, m])


def test_an_ensemble_member_starts_from_the_source_member_of_its_number(tmp_path):
    train_set = sentences("a/DET cat/NOUN sat/VERB")
    two = dataclasses.replace(CONFIG, ensemble=2)
    path, source_ensemble, _ = saved_source(tmp_path, train_set, config=two)
    source = Source.read(str(path))
    assert len(source.members) == 2
    start = Start.build(source, Vocabularies.build(train_set, CONFIG), CONFIG, ("upos",))
    for member in range(3):
        network, _ = built(train_set)
        start.apply(network, member)
        expected = source_ensemble.members[member % 2].state_dict()
        for name, tensor in network.state_dict().items():
            assert torch.equal(tensor, expected[name]), (member, name)


def test_the_network_shape_comes_from_the_source_and_a_typed_other_one_is_refused(tmp_path):
    path, _, _ = saved_source(tmp_path, SOURCE_DATA)
    source = Source.read(str(path))
    config, changed = shaped_like(source, ModelConfig(), typed={"dropout": 0.5})
    assert all(getattr(config, name) == getattr(CONFIG, name) for name in NETWORK_SHAPE)
    assert "--hidden 8" in changed and "--affixes 2" in changed and "--rnn lstm" not in changed
    with pytest.raises(UsageError, match="--hidden 64 differs from .*'s --hidden 8"):
        shaped_like(source, ModelConfig(hidden=64), typed={"hidden": 64})
    with pytest.raises(UsageError, match="--no-char differs from .*'s --char:"):
        shaped_like(source, ModelConfig(char=False), typed={"char": False})
    _, changed = shaped_like(source, ModelConfig(lowercase=True), typed={})
    assert "--no-lowercase" in changed
    other = dataclasses.replace(CONFIG, pretrained_dim=3)
    vocab = Vocabularies.build(SOURCE_DATA, CONFIG)
    with pytest.raises(UsageError, match="trained with no pretrained vectors"):
        Start.build(source, vocab, other, ("upos",))


def test_a_start_travels_as_plain_data():
    import pickle

    start = Start([{"w": numpy.ones(2, dtype=numpy.float32)}], {}, "s", {"file": "x"})
    assert pickle.loads(pickle.dumps(start)).members[0]["w"].tolist() == [1.0, 1.0]


# The command line: train --init and --related, the record in the model file, resume.


def _train(*args):
    return CliRunner().invoke(main, ["train", *map(str, args), *TINY_OPTIONS])


@pytest.fixture(scope="module")
def source_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("source") / "source.model"
    result = _train(TRAIN, "--dev", DEV, "-o", path)
    assert result.exit_code == 0, result.output
    return path


def _small_target(tmp_path):
    """A training file of other words and one label the source never saw (DEV with its NOUNs
    made NOUNX): a different vocabulary and label set."""
    text = DEV.read_text(encoding="utf-8").replace("\tNOUN\t", "\tNOUNX\t")
    path = tmp_path / "target.conllu"
    path.write_text(text, encoding="utf-8")
    return path


def test_train_init_starts_from_the_model_says_so_and_records_it(tmp_path, source_model):
    target = _small_target(tmp_path)
    out = tmp_path / "t.model"
    result = CliRunner().invoke(
        main,
        ["train", str(target), "-o", str(out), "--init", str(source_model),
         "--no-transfer-check", *TINY_OPTIONS[:-1], "--ensemble", "2", "--jobs", "2"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (
        f"Starting from {source_model}: its character and sentence encoders whole" in result.stderr
    )
    shared, labels = re.search(r"and (\d+) of (\d+) labels it also has", result.stderr).groups()
    assert int(shared) == int(labels) - 1  # NOUNX is new
    info = json.loads(CliRunner().invoke(main, ["info", "-m", str(out), "--json"]).stdout)
    started = info["started_from"]
    assert started["file"] == str(source_model) and started["column"] == "upos"
    assert started["sha256"] == file_sha256(source_model)
    tagged = CliRunner().invoke(
        main, ["tag", "-m", str(out), "--format", "tsv"], input="The dog ran .\n"
    )
    assert tagged.exit_code == 0 and tagged.stdout.count("\n") == 5


def test_init_refuses_a_typed_shape_a_missing_file_and_related_beside_it(tmp_path, source_model):
    out = tmp_path / "t.model"
    shape = CliRunner().invoke(
        main,
        ["train", str(DEV), "-o", str(out), "--init", str(source_model), "-q", "--hidden", "20"],
    )
    assert shape.exit_code == 2 and "--hidden 20 differs from" in shape.stderr
    missing = _train(DEV, "-o", out, "--init", tmp_path / "nothing.model")
    assert missing.exit_code == 1
    assert missing.stderr.startswith(f"Error: {tmp_path / 'nothing.model'}: no such model file")
    both = _train(DEV, "-o", out, "--init", source_model, "--related", TRAIN)
    assert both.exit_code == 2 and "give --related or --init, not both" in both.stderr
    not_a_model = _train(DEV, "-o", out, "--init", TRAIN)
    assert not_a_model.exit_code == 1 and "Traceback" not in not_a_model.output
    assert not out.exists()


def test_related_trains_one_network_first_keeps_it_and_starts_from_it(tmp_path):
    out = tmp_path / "t.model"
    result = CliRunner().invoke(
        main,
        ["train", str(_small_target(tmp_path)), "--dev", str(DEV), "-o", str(out),
         "--related", str(TRAIN), *TINY_OPTIONS[:-1], "--ensemble", "2"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    related = tmp_path / "t.model.related"
    assert f"First, one network on the related treebank {TRAIN}" in result.stderr
    assert f"Starting from {related}" in result.stderr
    first = modelfile.read_metadata(related)
    assert first["model_config"]["ensemble"] == 1 and "segmenter" not in first
    final = modelfile.read_metadata(out)
    assert final["started_from"]["sha256"] == file_sha256(related)
    assert final["model_config"]["ensemble"] == 2
    refused = _train(DEV, "-o", out, "--related", TRAIN, "--checkpoint", tmp_path / "ckpt")
    assert refused.exit_code == 2 and "--related does not go with --checkpoint" in refused.stderr


def test_resume_refuses_an_init_model_that_changed(tmp_path, source_model):
    copy = tmp_path / "source.model"
    copy.write_bytes(source_model.read_bytes())
    out, ckpt = tmp_path / "t.model", tmp_path / "ckpt"
    args = [DEV, "-o", out, "--init", copy, "--checkpoint", ckpt]
    assert _train(*args).exit_code == 0
    again = _train(*args, "--resume", ckpt)
    assert again.exit_code == 0, again.output
    other = _train(TRAIN, "--dev", DEV, "-o", copy, "--seed", "7")
    assert other.exit_code == 0
    changed = CliRunner().invoke(main, ["train", "--resume", str(ckpt), "-q"])
    assert changed.exit_code == 1
    assert "the model the run started from (--init) changed" in changed.stderr


def test_the_dev_check_says_both_scores_and_records_what_it_kept(tmp_path, source_model):
    out = tmp_path / "t.model"
    result = CliRunner().invoke(
        main,
        ["train", str(DEV), "-o", str(out), "--init", str(source_model), *TINY_OPTIONS[:-1],
         "--no-progress"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    metadata = modelfile.read_metadata(out)
    check = metadata["transfer_check"]
    kept_transfer = check["dev_with"] >= check["dev_without"]
    assert check["kept"] == ("transfer" if kept_transfer else "alone")
    assert (
        f"Dev accuracy {check['dev_with']:.4f} starting from {source_model}, "
        f"{check['dev_without']:.4f} alone: kept the "
        + ("start from it." if kept_transfer else "network trained alone.")
    ) in result.stderr
    assert ("started_from" in metadata) == kept_transfer and ("tried" in check) != kept_transfer
    unchecked = _train(DEV, "-o", out, "--init", source_model, "--no-transfer-check")
    assert unchecked.exit_code == 0
    assert "transfer_check" not in modelfile.read_metadata(out)


@pytest.mark.parametrize("alone_score", [0.5, 0.7])
def test_the_dev_check_keeps_alone_only_when_it_scores_higher(alone_score):
    from seqtag.run import _checked_against_alone, _provenance

    transferred, alone = ["t1", "t2"], ["a1", "a2"]
    said = []

    class FakeMembers:
        def train(self, n_members, report, **how):
            assert n_members == 2 and how["save_checkpoint"] is None and "start" not in how
            return alone, None

        def final_model(self, results, config):
            return None, 0.6 if results is transferred else alone_score

    class Say:
        def say(self, message):
            said.append(message)

    source = Source("n.model", [], None, CONFIG, ("upos",), {"file": "n.model"})
    kept, interrupted, check, trained = _checked_against_alone(
        FakeMembers(), transferred, CONFIG, source, Say(), {"jobs": 1}
    )
    assert interrupted is None and trained is alone  # its time is added, kept or not
    if alone_score > 0.6:
        assert kept is alone and check["kept"] == "alone"
        assert said[-1].endswith("kept the network trained alone.")
        assert _provenance(source, check) == {"transfer_check": {**check, "tried": source.record}}
    else:
        assert kept is transferred and check["kept"] == "transfer"
        assert "0.6000 starting from n.model, 0.5000 alone: kept the start" in said[-1]
        assert _provenance(source, check)["started_from"] == source.record


def test_related_of_another_kind_is_refused_before_training(tmp_path):
    columns = tmp_path / "ner.txt"
    columns.write_text("Halima B-PER\nYusuf I-PER\nworks O\n\nAbuja B-LOC\n", encoding="utf-8")
    out = tmp_path / "t.model"
    result = _train(DEV, "-o", out, "--related", columns)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {columns}: this is a column file and {DEV} is CoNLL-U")
    assert not (tmp_path / "t.model.related").exists()
    missing = _train(DEV, "-o", out, "--related", tmp_path / "none.conllu")
    assert missing.exit_code == 1 and "Traceback" not in missing.output


def test_cv_starts_every_fold_from_init_and_has_no_related(tmp_path, source_model):
    result = CliRunner().invoke(
        main,
        ["cv", str(DEV), "--folds", "2", "--init", str(source_model), "--no-transfer-check",
         "--json", *TINY_OPTIONS[:-2]],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"]
    related = CliRunner().invoke(main, ["cv", str(DEV), "--related", str(TRAIN)])
    assert related.exit_code == 2 and "then cv --init related.model" in related.stderr


def test_a_source_of_other_labels_says_the_output_layer_starts_afresh(tmp_path):
    xpos = sentences("a/DT cat/NN sat/VBD")
    path, _, _ = saved_source(tmp_path, xpos, column="xpos")
    network, vocab = built(sentences("a/DET dog/NOUN ran/VERB"))
    before = network.state_dict()["output.weight"].clone()
    start = Start.build(Source.read(str(path)), vocab, CONFIG, ("upos",))
    start.apply(network)
    assert "0 of 3 labels" in start.summary
    assert start.summary.endswith("No label in common: the output layer starts afresh.")
    assert torch.equal(network.state_dict()["output.weight"], before)

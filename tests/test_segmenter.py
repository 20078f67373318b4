"""The segmenter: what it learns from CoNLL-U (text, token and sentence ends, multiword tokens),
its decoding and windows, numpy against torch, the model file, and `seqtag tag -i raw` with it:
the treebank's own words, multiword tokens and # text written back, streaming, clear errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner
from conftest import TINY_OPTIONS
from hypothesis import given
from hypothesis import strategies as st

from seqtag.cli import main
from seqtag.lines import LineReader
from seqtag.read import read_conllu
from seqtag.segmenter import SegmenterConfig, Span, decode, windows
from seqtag.segmenter.examples import (
    INSIDE,
    MULTIWORD_END,
    SENTENCE_END,
    TOKEN_END,
    Multiwords,
    multiword_dictionary,
    multiword_rules,
    running_texts,
    sentence_text,
    tokens_of,
)

SENTENCES = [
    [
        "# text = Dr. Smith didn't come.",
        "1\tDr.\t_\tPROPN\t_\t_\t_\t_\t_\t_",
        "2\tSmith\t_\tPROPN\t_\t_\t_\t_\t_\t_",
        "3\tdid\t_\tAUX\t_\t_\t_\t_\t_\tSpaceAfter=No",
        "4\tn't\t_\tPART\t_\t_\t_\t_\t_\t_",
        "5\tcome\t_\tVERB\t_\t_\t_\t_\t_\tSpaceAfter=No",
        "6\t.\t_\tPUNCT\t_\t_\t_\t_\t_\t_",
    ],
    [
        "# text = He went to the market del pueblo.",
        "1\tHe\t_\tPRON\t_\t_\t_\t_\t_\t_",
        "2\twent\t_\tVERB\t_\t_\t_\t_\t_\t_",
        "3\tto\t_\tADP\t_\t_\t_\t_\t_\t_",
        "4\tthe\t_\tDET\t_\t_\t_\t_\t_\t_",
        "5\tmarket\t_\tNOUN\t_\t_\t_\t_\t_\t_",
        "6-7\tdel\t_\t_\t_\t_\t_\t_\t_\t_",
        "6\tde\t_\tADP\t_\t_\t_\t_\t_\t_",
        "7\tel\t_\tDET\t_\t_\t_\t_\t_\t_",
        "8\tpueblo\t_\tNOUN\t_\t_\t_\t_\t_\tSpaceAfter=No",
        "9\t.\t_\tPUNCT\t_\t_\t_\t_\t_\t_",
    ],
    [
        "# text = Prices rose 3.5% (again)!",
        "1\tPrices\t_\tNOUN\t_\t_\t_\t_\t_\t_",
        "2\trose\t_\tVERB\t_\t_\t_\t_\t_\t_",
        "3\t3.5\t_\tNUM\t_\t_\t_\t_\t_\tSpaceAfter=No",
        "4\t%\t_\tSYM\t_\t_\t_\t_\t_\t_",
        "5\t(\t_\tPUNCT\t_\t_\t_\t_\t_\tSpaceAfter=No",
        "6\tagain\t_\tADV\t_\t_\t_\t_\t_\tSpaceAfter=No",
        "7\t)\t_\tPUNCT\t_\t_\t_\t_\t_\tSpaceAfter=No",
        "8\t!\t_\tPUNCT\t_\t_\t_\t_\t_\t_",
    ],
]
RAW = "Dr. Smith didn't come. He went to the market del pueblo. Prices rose 3.5% (again)!"
TINY = SegmenterConfig(layers=1, hidden=32, char_dim=16, category_dim=4, window=40, context=10)


def write_corpus(path, copies: int = 6):
    """The three sentences as ``copies`` documents, in rotating order."""
    blocks = []
    for copy in range(copies):
        for k in range(3):
            lines = SENTENCES[(copy + k) % 3]
            blocks.append("\n".join((["# newdoc"] if k == 0 else []) + lines))
    path.write_text("\n\n".join(blocks) + "\n\n", encoding="utf-8")
    return path


def sentences_of(path):
    return list(read_conllu(LineReader(path.open("rb"), str(path))))


def test_tokens_multiwords_and_text():
    tokens = tokens_of(SENTENCES[1])
    assert [t.form for t in tokens] == ["He", "went", "to", "the", "market", "del", "pueblo", "."]
    assert tokens[5].words == ["de", "el"] and tokens[6].space_after is False
    text, spans = sentence_text(SENTENCES[1], tokens)
    assert text == "He went to the market del pueblo." and [text[a:b] for a, b in spans][5] == "del"
    # A # text the forms cannot be found in (treebanks have a few): the forms as SpaceAfter says.
    wrong = ["# text = Something else entirely", *SENTENCES[0][1:]]
    assert sentence_text(wrong, tokens_of(wrong))[0] == "Dr. Smith didn't come."


def test_running_text_labels(tmp_path):
    texts = running_texts(sentences_of(write_corpus(tmp_path / "c.conllu", copies=2)))
    assert len(texts) == 2  # one a document
    first = texts[0]
    assert first.text.startswith("Dr. Smith didn't come. He went")
    assert first.labels[2] == TOKEN_END and first.labels[1] == INSIDE  # "Dr." is one token
    assert first.labels[first.text.index("did") + 2] == TOKEN_END  # did|n't
    assert first.labels[first.text.index("come.") + 4] == SENTENCE_END
    assert first.labels[first.text.index("del ") + 2] == MULTIWORD_END
    assert len(first.labels) == len(first.text)
    tokens = [first.text[s.start : s.end] for s in decode(first.text, first.labels)]
    assert tokens[:6] == ["Dr.", "Smith", "did", "n't", "come", "."]


def test_multiword_dictionary_keeps_the_majority_and_restores_case(tmp_path):
    sentences = sentences_of(write_corpus(tmp_path / "c.conllu", copies=1))
    assert multiword_dictionary(sentences) == {"del": ["de", "el"]}
    single = "\n".join(["1\tdel\t_\tADP\t_\t_\t_\t_\t_\t_"] * 1)
    (tmp_path / "more.conllu").write_text(
        (tmp_path / "c.conllu").read_text() + single + "\n\n" + single.replace("1\t", "1\t", 1)
    )
    assert multiword_dictionary(sentences_of(tmp_path / "more.conllu")) == {}  # 2 single > 1
    known = Multiwords({"del": ["de", "el"]})
    assert known.expand("Del") == ["De", "el"]
    assert known.expand("DEL") == ["DE", "EL"]
    assert known.expand("dell") == ["dell"]


def test_suffix_rules_expand_multiword_tokens_never_seen(tmp_path):
    def token(form, words):
        n = len(words)
        return [f"1-{n}\t{form}" + "\t_" * 8] + [
            f"{i}\t{w}" + "\t_" * 8 for i, w in enumerate(words, 1)
        ]

    blocks = [token("comelo", ["comer", "o"]), token("bebelo", ["beber", "o"]),
              token("dalle", ["dar", "lle"])]  # fmt: skip
    path = tmp_path / "m.conllu"
    path.write_text("\n\n".join("\n".join(b) for b in blocks) + "\n\n", encoding="utf-8")
    rules = multiword_rules(sentences_of(path))
    assert rules == {"lo": ["r", "o"]}  # "lle" after "da" is seen once: no rule
    multiwords = Multiwords({}, rules)
    assert multiwords.expand("Vendelo") == ["Vender", "o"]
    assert multiwords.expand("lo") == ["lo"]  # a rule keeps at least one character of the form
    assert multiwords.expand("vendelle") == ["vendelle"]


@given(st.text(alphabet="ab .\n", max_size=40), st.data())
def test_decode_keeps_every_character_but_whitespace(text, data):
    labels = data.draw(st.lists(st.integers(0, 4), min_size=len(text), max_size=len(text)))
    spans = decode(text, labels)
    covered = [i for s in spans for i in range(s.start, s.end)]
    assert covered == [i for i, c in enumerate(text) if not c.isspace()]
    assert all(not text[i].isspace() for i in covered)


@given(st.integers(0, 2000), st.integers(1, 300), st.integers(0, 100))
def test_windows_tile_the_text(length, window, context):
    found = windows(length, window, context)
    assert [i for _, _, a, b in found for i in range(a, b)] == list(range(length))
    assert all(0 <= s <= a < b <= e <= length for s, e, a, b in found)
    assert all(a - s <= context and e - b <= context for s, e, a, b in found)


@pytest.fixture(scope="module")
def segmenter_model(tmp_path_factory, tiny_model):
    """The tiny tagger with a tiny segmenter trained on the three sentences."""
    from seqtag.segmenter.network import train_into

    folder = tmp_path_factory.mktemp("segmenter")
    sentences = sentences_of(write_corpus(folder / "train.conllu"))
    model = folder / "with-segmenter.model"
    shutil.copy(tiny_model, model)
    said = []
    about = train_into(str(model), sentences, sentences, 1, said.append, TINY, max_epochs=8)
    assert about["dev_scores"]["token_f1"] == 1.0, said
    return model


def test_segmenter_reproduces_its_training_segmentation(segmenter_model):
    from seqtag.segmenter.engine import read_segmenter

    segmenter = read_segmenter(segmenter_model)
    spans = segmenter.segment([RAW])[0]
    assert [RAW[s.start : s.end] for s in spans][:6] == ["Dr.", "Smith", "did", "n't", "come", "."]
    assert [i for i, s in enumerate(spans) if s.sentence_end] == [5, 13, 21]
    assert [RAW[s.start : s.end] for s in spans if s.multiword] == ["del"]


def test_numpy_and_torch_segment_alike(segmenter_model):
    import torch

    from seqtag.segmenter.engine import read_segmenter
    from seqtag.segmenter.network import SegmenterNetwork, segment

    segmenter = read_segmenter(segmenter_model)
    network = SegmenterNetwork(segmenter.config, len(segmenter.characters))
    weights = {name: torch.from_numpy(w) for name, w in _segmenter_weights(segmenter_model).items()}
    network.load_state_dict(weights)
    texts = [RAW, "went to the market (del pueblo)", "x", RAW * 7]
    assert segment(network, segmenter.characters, texts) == segmenter.segment(texts)


def _segmenter_weights(path):
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as handle:
        return {
            k[len("segmenter.") :]: handle.get_tensor(k)
            for k in handle.keys()  # noqa: SIM118
            if k.startswith("segmenter.")
        }


def test_tag_writes_the_treebanks_words_multiword_tokens_and_text(segmenter_model):
    result = CliRunner().invoke(main, ["tag", "-m", str(segmenter_model), "-i", "raw"], input=RAW)
    assert result.exit_code == 0, result.output
    blocks = result.stdout.strip("\n").split("\n\n")
    assert [b.splitlines()[0] for b in blocks] == [
        "# text = Dr. Smith didn't come.",
        "# text = He went to the market del pueblo.",
        "# text = Prices rose 3.5% (again)!",
    ]
    second = [line.split("\t") for line in blocks[1].splitlines()[1:]]
    assert [f[0] for f in second] == ["1", "2", "3", "4", "5", "6-7", "6", "7", "8", "9"]
    assert second[5][1] == "del" and [second[6][1], second[7][1]] == ["de", "el"]
    assert second[8][9] == "SpaceAfter=No" and second[5][9] == "_"
    first = [line.split("\t") for line in blocks[0].splitlines()[1:]]
    assert [f[1] for f in first] == ["Dr.", "Smith", "did", "n't", "come", "."]
    assert first[2][9] == "SpaceAfter=No" and first[3][9] == "_"
    # The rules, as before: "didn't" stays whole and "Dr." loses its period.
    rules = CliRunner().invoke(
        main, ["tag", "-m", str(segmenter_model), "-i", "raw", "--tokenizer", "rules"], input=RAW
    )
    assert rules.exit_code == 0 and "\tdidn't\t" in rules.stdout


def test_a_sentence_runs_over_a_line_break_but_not_past_a_blank_line(segmenter_model):
    text = "Dr. Smith didn't\ncome. He went to the market\n\ndel pueblo."
    result = CliRunner().invoke(
        main, ["tag", "-m", str(segmenter_model), "-i", "raw", "-f", "jsonl"], input=text
    )
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    words = [record["tokens"] for record in records]  # the words (multiword tokens split)
    assert words[0] == ["Dr.", "Smith", "did", "n't", "come", "."]
    assert words[1][-1] == "market" and words[2] == ["de", "el", "pueblo", "."]
    assert records[0]["text"] == "Dr. Smith didn't come."  # the line break read as a space
    assert records[2]["multiword"] == [{"start": 0, "end": 2, "text": "del"}]


@pytest.mark.parametrize("tokenizer", ["model", "rules"])
def test_slow_pipe_gets_each_sentence_before_the_next_line(segmenter_model, tokenizer):
    """Also the rules, with the input format detected: detection once waited for a second
    line (or the end) before the first was answered."""
    process = subprocess.Popen(
        [sys.executable, "-m", "seqtag", "tag", "-m", str(segmenter_model), "--tokenizer",
         tokenizer, "-f", "tsv"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
    )  # fmt: skip
    try:
        for line, first in (
            ("Smith didn't come.", "Smith"),
            ("Prices rose 3.5% (again)!", "Prices"),
        ):
            process.stdin.write(line + "\n")
            process.stdin.flush()
            assert process.stdout.readline().split("\t")[0] == first
            while process.stdout.readline() != "\n":
                pass
    finally:
        process.stdin.close()
        process.wait(timeout=60)
        process.stdout.close()
    assert process.returncode == 0


def test_hostile_raw_text_gets_output_not_a_traceback(segmenter_model, tmp_path):
    long_line = tmp_path / "long.txt"
    long_line.write_text("x" * 1_000_000 + "\n", encoding="utf-8")
    for path in (long_line,):
        result = CliRunner().invoke(
            main, ["tag", "-m", str(segmenter_model), "-i", "raw", "-f", "tsv", str(path)]
        )
        assert result.exit_code == 0, result.output
        assert sum(len(line.split("\t")[0]) for line in result.stdout.splitlines()) == 1_000_000
    punctuation = CliRunner().invoke(
        main, ["tag", "-m", str(segmenter_model), "-i", "raw", "-f", "tsv"], input="?!.,;:()\n"
    )
    assert punctuation.exit_code == 0 and punctuation.stdout.strip()
    nul = CliRunner().invoke(main, ["tag", "-m", str(segmenter_model), "-i", "raw"], input="a\0b\n")
    assert nul.exit_code == 1 and "NUL byte" in nul.output


def test_tokenizer_model_errors(tiny_model, segmenter_model):
    asked = CliRunner().invoke(
        main, ["tag", "-m", str(tiny_model), "--tokenizer", "model"], input="a\n"
    )
    assert asked.exit_code == 1 and "has no segmenter" in asked.output
    borrowed = CliRunner().invoke(
        main, ["tag", "-m", str(tiny_model), "--tokenizer-model", str(segmenter_model), "-i", "raw"],
        input=RAW,
    )  # fmt: skip
    assert borrowed.exit_code == 0 and "6-7\tdel" in borrowed.stdout
    # Without a segmenter, auto is the rules, silently: NER models of column files have none.
    plain = CliRunner().invoke(main, ["tag", "-m", str(tiny_model), "-i", "raw"], input=RAW)
    assert plain.exit_code == 0 and "\tdidn't\t" in plain.stdout


def test_span_is_a_value():
    assert Span(0, 1) == Span(0, 1, False) and Span(0, 1, True) != Span(0, 1)


def test_train_learns_a_segmenter_by_default_and_train_tokenizer_adds_one(tmp_path, tiny_model):
    """seqtag train on CoNLL-U trains the segmenter too (and says so); seqtag info describes
    it; train-tokenizer gives one to a model without; tokenize writes the words untagged."""
    corpus = write_corpus(tmp_path / "train.conllu")
    model = tmp_path / "m.model"
    tiny = [o for o in TINY_OPTIONS if o not in ("--no-tokenizer", "-q")]
    result = CliRunner().invoke(
        main, ["train", str(corpus), "--dev", str(corpus), "-o", str(model), *tiny]
    )
    assert result.exit_code == 0, result.output
    assert "Segmenter: dev token F1" in result.stderr
    info = json.loads(CliRunner().invoke(main, ["info", "-m", str(model), "--json"]).stdout)
    assert info["segmenter"]["multiword_forms"] == 1 and info["segmenter"]["rnn"] == "lstm"
    bare = tmp_path / "bare.model"
    shutil.copy(tiny_model, bare)
    before = CliRunner().invoke(main, ["info", "-m", str(bare)]).stdout
    assert "segmenter: none" in before
    added = CliRunner().invoke(
        main,
        ["train-tokenizer", str(corpus), "--dev", str(corpus), "-m", str(bare), "--max-epochs",
         "2", "-q"],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    about = json.loads(CliRunner().invoke(main, ["info", "-m", str(bare), "--json"]).stdout)
    assert about["segmenter"]["multiword_forms"] == 1 and about["segmenter"]["epochs_run"] <= 2
    tokenized = CliRunner().invoke(main, ["tokenize", "-m", str(model)], input=RAW + "\n")
    assert tokenized.exit_code == 0, tokenized.output
    lines = tokenized.stdout.splitlines()
    assert (
        lines[0] == "# text = Dr. Smith didn't come."
        and lines[1] == "1\tDr.\t_\t_\t_\t_\t_\t_\t_\t_"
    )
    assert "6-7\tdel\t_\t_\t_\t_\t_\t_\t_\t_" in lines
    wrong = CliRunner().invoke(main, ["train-tokenizer", str(corpus), "-m", str(corpus)])
    assert wrong.exit_code == 1 and "not a seqtag model file" in wrong.output


def test_python_api_splits_text_with_the_segmenter(segmenter_model, tiny_model):
    from seqtag import Tagger
    from seqtag.errors import SeqtagError

    tagged = Tagger.load(segmenter_model, device="cpu").tag_text(RAW)
    assert [s.text for s in tagged][1] == "He went to the market del pueblo."
    assert tagged[1].tokens[5:7] == ["de", "el"] and len(tagged[1].tags) == 9
    rules = Tagger.load(segmenter_model, device="cpu").tag_text(RAW, tokenizer="rules")
    assert "didn't" in rules[0].tokens
    with pytest.raises(SeqtagError, match="no segmenter"):
        Tagger.load(tiny_model, device="cpu").tag_text(RAW, tokenizer="model")


def test_paragraphs_are_texts_of_their_own_and_too_few_inner_sentence_ends_mean_the_rules(
    tmp_path, tiny_model
):
    """A treebank whose every sentence is a paragraph cannot teach where sentences end inside
    one: the segmenter gives the words, seqtag's rules the sentence ends."""
    from seqtag.segmenter.engine import read_segmenter
    from seqtag.segmenter.examples import inner_sentence_ends
    from seqtag.segmenter.network import MIN_INNER_SENTENCE_ENDS, train_into

    joined = running_texts(sentences_of(write_corpus(tmp_path / "joined.conllu", copies=8)))
    assert inner_sentence_ends(joined) == 8 * 2  # three sentences a document, two end inside
    paragraphs = tmp_path / "paragraphs.conllu"
    paragraphs.write_text(
        (tmp_path / "joined.conllu").read_text().replace("# text = ", "# newpar\n# text = "),
        encoding="utf-8",
    )
    sentences = sentences_of(paragraphs)
    texts = running_texts(sentences)
    assert len(texts) == 24 and inner_sentence_ends(texts) == 0 < MIN_INNER_SENTENCE_ENDS
    model = tmp_path / "m.model"
    shutil.copy(tiny_model, model)
    said = []
    about = train_into(str(model), sentences, sentences, 1, said.append, TINY, max_epochs=4)
    assert about["sentences"] == "rules" and any("into sentences by" in s for s in said)
    segmenter = read_segmenter(model)
    assert segmenter.sentence_rules
    spans = segmenter.segment([RAW])[0]
    assert [RAW[s.start : s.end] for s in spans if s.sentence_end] == [".", ".", "!"]


def test_sentence_ends_are_the_rules_where_they_score_higher_on_dev(monkeypatch, tmp_path):
    """Like --tag-dictionary auto: the segmenter must not split sentences worse than the rules."""
    from seqtag.segmenter import network

    dev = running_texts(sentences_of(write_corpus(tmp_path / "c.conllu", copies=1)))
    gold = [decode(t.text, t.labels) for t in dev]
    no_ends = [[Span(s.start, s.end) for s in spans] for spans in gold]
    for found, expected in ((no_ends, "rules"), (gold, "learned")):
        monkeypatch.setattr(network, "segment", lambda *_, found=found: found)
        chosen, compared = network._sentence_ends(_NO_NETWORK, dev, inner=100)
        assert chosen == expected, compared
    assert network._sentence_ends(_NO_NETWORK, dev, inner=0)[0] == "rules"  # too few to learn


class _NO_NETWORK:  # what _sentence_ends reads of a SegmenterResult, for a patched segment()
    network = characters = None

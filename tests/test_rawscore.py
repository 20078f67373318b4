"""Scores from raw text (seqtag eval --raw): spans through the characters, multiword tokens
aligned by their words' forms, as the CoNLL 2018 evaluator counts; that evaluator (udtools) is
the oracle where it is installed."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from seqtag import rawscore
from seqtag.cli import main
from seqtag.lines import LineReader
from seqtag.read import Column, Sentence, read_conllu

GOLD = """# newdoc
# text = He went del pueblo.
1\tHe\t_\tPRON\t_\t_\t0\troot\t_\t_
2\twent\t_\tVERB\t_\t_\t1\tdep\t_\t_
3-4\tdel\t_\t_\t_\t_\t_\t_\t_\t_
3\tde\t_\tADP\t_\t_\t1\tdep\t_\t_
4\tel\t_\tDET\t_\t_\t1\tdep\t_\t_
5\tpueblo\t_\tNOUN\t_\t_\t1\tdep\t_\tSpaceAfter=No
6\t.\t_\tPUNCT\t_\t_\t1\tdep\t_\t_

# text = It rained.
1\tIt\t_\tPRON\t_\t_\t0\troot\t_\t_
2\trained\t_\tVERB\t_\t_\t1\tdep\t_\tSpaceAfter=No
3\t.\t_\tPUNCT\t_\t_\t1\tdep\t_\t_

"""


def gold(tmp_path):
    path = tmp_path / "gold.conllu"
    path.write_text(GOLD, encoding="utf-8")
    return path, list(read_conllu(LineReader(path.open("rb"), str(path)), Column.parse("upos")))


def test_plain_text_is_the_sentences_texts_by_paragraph(tmp_path):
    _, sentences = gold(tmp_path)
    assert rawscore.plain_text(sentences) == "He went del pueblo. It rained.\n"


def test_perfect_output_scores_one_and_errors_are_counted_as_the_shared_task_does(tmp_path):
    _, sentences = gold(tmp_path)
    spans = rawscore.gold_spans(sentences)
    assert rawscore.score(spans, spans)["words"]["f1"] == 1.0
    # The system leaves "del" whole, tags "went" wrong and misses the sentence break.
    system = [
        Sentence(["He", "went", "del", "pueblo", ".", "It", "rained", "."]),
    ]
    tags = [["PRON", "NOUN", "ADP", "NOUN", "PUNCT", "PRON", "VERB", "PUNCT"]]
    scores = rawscore.score(spans, rawscore.system_spans(system, tags))
    assert scores["tokens"]["f1"] == 1.0  # 8 tokens each side, all the same spans
    assert scores["sentences"]["precision"] == 0 and scores["sentences"]["recall"] == 0
    # Words: gold 9, system 8; "del" matches neither "de" nor "el" by form: 7 matched.
    assert scores["words"]["precision"] == 7 / 8 and scores["words"]["recall"] == 7 / 9
    assert scores["tags"]["precision"] == 6 / 8  # "went" is wrong
    # Split as gold does ("de" "el" in a multiword token): words all match.
    split = [Sentence(["He", "went", "de", "el", "pueblo", "."], multiword=[(2, 3, "del")]),
             Sentence(["It", "rained", "."])]  # fmt: skip
    tags = [["PRON", "VERB", "ADP", "DET", "NOUN", "PUNCT"], ["PRON", "VERB", "PUNCT"]]
    scores = rawscore.score(spans, rawscore.system_spans(split, tags))
    assert all(scores[k]["f1"] == 1.0 for k in ("tokens", "sentences", "words", "tags"))


def test_a_token_split_differently_stretches_a_multiword_region():
    W = rawscore.Word
    gold = [W(0, 3, "de", "ADP", True), W(0, 3, "el", "DET", True), W(3, 5, "xy", "X", False)]
    system = [W(0, 5, "de", "ADP", True), W(0, 5, "lxy", "X", True)]
    assert rawscore.multiword_regions(gold, system) == [(0, 5)]
    pairs = rawscore.align_words(gold, system)
    assert [(g.form, s.form) for g, s in pairs] == [("de", "de")]


def test_eval_raw_through_the_cli(tmp_path, tiny_model):
    path, _ = gold(tmp_path)
    result = CliRunner().invoke(main, ["eval", "-m", str(tiny_model), str(path), "--raw", "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    assert scores["tokenizer"] == "rules" and scores["sentences"]["f1"] == 1.0
    # The rules leave "del" whole: 8 of gold's 9 words at best.
    assert scores["words"]["recall"] == 7 / 9
    table = CliRunner().invoke(main, ["eval", "-m", str(tiny_model), str(path), "--raw"])
    assert table.exit_code == 0 and "from raw text (rules tokenizer)" in table.stdout
    wrong = CliRunner().invoke(main, ["eval", "--pred", str(path), str(path), "--raw"])
    assert wrong.exit_code == 2 and "give -m/--model" in wrong.output


def test_the_shared_task_evaluator_agrees(tmp_path, tiny_model):
    udeval = pytest.importorskip("udtools.udeval")
    path, sentences = gold(tmp_path)
    text = rawscore.plain_text(sentences)
    tagged = CliRunner().invoke(main, ["tag", "-m", str(tiny_model), "-i", "raw"], input=text)
    system = tmp_path / "system.conllu"
    lines = []
    for line in tagged.stdout.splitlines():  # a trivial tree: the evaluator wants one
        fields = line.split("\t")
        if len(fields) == 10 and fields[0].isdigit():
            fields[6], fields[7] = ("0", "root") if fields[0] == "1" else ("1", "dep")
        lines.append("\t".join(fields))
    system.write_text("\n".join(lines) + "\n", encoding="utf-8")
    theirs = udeval.evaluate(
        udeval.load_conllu_file(str(path)), udeval.load_conllu_file(str(system))
    )
    mine = json.loads(
        CliRunner()
        .invoke(main, ["eval", "-m", str(tiny_model), str(path), "--raw", "--json"])
        .stdout
    )
    for ours, name in (("tokens", "Tokens"), ("sentences", "Sentences"), ("words", "Words"),
                       ("tags", "UPOS")):  # fmt: skip
        assert mine[ours]["f1"] == pytest.approx(theirs[name].f1)

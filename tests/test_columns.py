"""Column files: CoNLL-2003 style and Universal NER IOB2, format detection, writing back, round
trips (hypothesis), and the CLI reading them for train, eval and tag."""

from __future__ import annotations

import io
import json

import pytest
from click.testing import CliRunner
from conftest import TINY_OPTIONS
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from seqtag import SeqtagError
from seqtag.cli import main
from seqtag.lines import LineReader
from seqtag.read import COLUMN_LAYOUTS, Sentence, detect_format, read_columns
from seqtag.write import column_lines

COLUMNS = COLUMN_LAYOUTS["columns"]
IOB2 = COLUMN_LAYOUTS["iob2"]

MASAKHANER = "Gàní B-PER\nAdams I-PER\nsọ O\n\nÌjọba B-ORG\nnáà O\n"
CONLL2003 = (
    "-DOCSTART- -X- -X- O\n\n"
    "EU NNP B-NP B-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP B-MISC\n\n"
    "Peter NNP B-NP B-PER\nBlackburn NNP I-NP I-PER\n"
)
UNER = (
    "# sent_id = a-1\n# text = where in tampa bay\n"
    "1\twhere\tO\t-\t-\n2\tin\tO\t-\t-\n3\ttampa\tB-LOC\t-\tstephen\n4\tbay\tI-LOC\t-\tstephen\n\n"
    "# sent_id = a-2\n1\tNew York\tB-LOC\t-\t-\n2\t!\tO\t-\t-\n"
)


def reader(text: str, name: str = "t.txt") -> LineReader:
    return LineReader(io.BytesIO(text.encode("utf-8")), name)


def read(text: str, layout=COLUMNS, tag_column: int | None = None) -> list[Sentence]:
    return list(read_columns(reader(text), layout.with_tag_column(tag_column)))


def test_two_column_ner_file():
    first, second = read(MASAKHANER)
    assert first.words == ["Gàní", "Adams", "sọ"]
    assert first.tags == ["B-PER", "I-PER", "O"]
    assert (first.line, second.line) == (1, 5)


def test_conll2003_docstart_is_skipped_and_the_tag_is_the_last_column_by_default():
    first, second = read(CONLL2003)
    assert first.words == ["EU", "rejects", "German"]
    assert first.tags == ["B-ORG", "O", "B-MISC"]
    assert second.tags == ["B-PER", "I-PER"]
    assert read(CONLL2003, tag_column=3)[0].tags == ["B-NP", "B-VP", "B-NP"]


def test_uner_iob2_keeps_comments_and_splits_on_tabs_only():
    first, second = read(UNER, IOB2)
    assert first.words == ["where", "in", "tampa", "bay"]
    assert first.tags == ["O", "O", "B-LOC", "I-LOC"]
    assert second.words == ["New York", "!"]
    assert first.lines[0] == "# sent_id = a-1"


def test_what_real_ner_files_contain_empty_token_crlf_trailing_spaces_i_start():
    text = "Lagos B-LOC  \r\n O\r\nsọ I-PER\r\n\r\n"
    [sentence] = read(text)
    assert sentence.words == ["Lagos", "", "sọ"]
    assert sentence.tags == ["B-LOC", "O", "I-PER"]


def test_a_file_of_tokens_only_has_no_tags():
    [sentence] = read("Gàní\nAdams\n")
    assert sentence.words == ["Gàní", "Adams"] and sentence.tags is None


@pytest.mark.parametrize(
    "text, layout, message",
    [
        ("a O\nb\n", COLUMNS, "t.txt:2: expected 2 whitespace-separated fields as on line 1, found 1"),
        ("a O\nb c O\n", COLUMNS, "t.txt:2: expected 2 whitespace-separated fields as on line 1, found 3"),
        ("1\ta\tO\n3\tb\tO\n", IOB2, "t.txt:2: expected word ID 2 in the first field, found '3'"),
        ("a\x00 O\n", COLUMNS, "t.txt:1: NUL byte in line"),
        ("# only\n", IOB2, "t.txt:1: sentence has comment lines but no words"),
    ],
)  # fmt: skip
def test_broken_column_files_name_the_line(text, layout, message):
    with pytest.raises(SeqtagError) as error:
        read(text, layout)
    assert str(error.value).startswith(message)


@pytest.mark.parametrize(
    "text, expected",
    [
        (MASAKHANER, "columns"),
        (CONLL2003, "columns"),
        (UNER, "iob2"),
        ("# text = a\n1\ta\ta\tDET\t_\t_\t0\troot\t_\t_\n", "conllu"),
        ("1\tThe\tthe\tDET\tDT\t_\t2\tdet\t_\t_\n2 cat cat NOUN NN _ 0 root _ _\n", "conllu"),
        ("", "conllu"),
        ("# just a comment\n", "conllu"),
    ],
)
def test_format_detection(text, expected):
    lines = reader(text)
    assert detect_format(lines, need_tags=True) == expected
    assert "".join(line + "\n" for line in lines) == text.replace("\r", "")  # nothing consumed


def test_a_file_that_fits_no_format_names_the_line_and_the_formats_tried():
    with pytest.raises(SeqtagError) as error:
        detect_format(reader("\n\nGàní B-PER\nAdams\n"), need_tags=True)
    message = str(error.value)
    assert message.startswith("t.txt:4: cannot tell the file format")
    assert all(name in message for name in ("conllu", "iob2", "columns"))
    assert detect_format(reader("Gàní\nAdams\n"), need_tags=False) == "columns"


def test_writing_back_changes_only_the_tag_field():
    sentences = read(CONLL2003)
    assert column_lines(sentences[0], ["O", "O", "O"]) == [
        "EU NNP B-NP O", "rejects VBZ B-VP O", "German JJ B-NP O",
    ]  # fmt: skip
    [uner, _] = read(UNER, IOB2)
    assert column_lines(uner, ["X"] * 4)[:3] == [
        "# sent_id = a-1",
        "# text = where in tampa bay",
        "1\twhere\tX\t-\t-",
    ]
    [tokens] = read("Gàní\nAdams\n")
    assert column_lines(tokens, ["B-PER", "I-PER"]) == ["Gàní B-PER", "Adams I-PER"]
    [empty] = read(" O\nx O\n")
    assert column_lines(empty, ["B-LOC", "O"]) == [" B-LOC", "x O"]


# Round trips: what column_lines writes, read_columns reads back.

_TOKEN = st.text(
    st.characters(exclude_categories=("Cs",)).filter(lambda c: not c.isspace() and c != "\x00"),
    min_size=1,
    max_size=8,
).filter(lambda t: t != "-DOCSTART-" and not t.startswith("\ufeff"))  # a leading BOM is dropped
_TAG = st.sampled_from(["O", "B-PER", "I-PER", "B-LOC", "NOUN", "X"])
_SENTENCE = st.lists(st.tuples(_TOKEN, _TAG), min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(_SENTENCE, min_size=1, max_size=5))
def test_written_column_files_read_back_the_same(corpus):
    text = "".join(
        "".join(f"{word}\t{tag}\n" for word, tag in sentence) + "\n" for sentence in corpus
    )
    back = read(text)
    assert [s.words for s in back] == [[w for w, _ in s] for s in corpus]
    assert [s.tags for s in back] == [[t for _, t in s] for s in corpus]
    # and reading then writing with the same tags gives the file back line for line
    rewritten = "".join(
        "".join(line + "\n" for line in column_lines(s, s.tags)) + "\n" for s in back
    )
    assert rewritten == text


@settings(max_examples=200, deadline=None)
@given(st.lists(_SENTENCE, min_size=1, max_size=5), st.sampled_from(["columns", "iob2"]))
def test_detection_recognises_what_the_writers_write(corpus, name):
    # A first sentence whose every token starts with "#" looks like CoNLL-U comments: ambiguous
    # by nature, and documented as a case for --input-format.
    assume(not all(w.startswith("#") for w, _ in corpus[0]))
    if name == "iob2":
        text = "".join(
            "# c\n" + "".join(f"{i}\t{w}\t{t}\t-\n" for i, (w, t) in enumerate(s, 1)) + "\n"
            for s in corpus
        )
    else:
        text = "".join("".join(f"{w} {t}\n" for w, t in s) + "\n" for s in corpus)
    assert detect_format(reader(text), need_tags=True) == name


# The command line


@pytest.fixture(scope="module")
def ner_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ner")
    sentences = [
        "Gàní B-PER\nAdams I-PER\nsọ O\nní O\nLagos B-LOC\n",
        "Ìjọba B-ORG\nnáà O\nwà O\nní O\nAbuja B-LOC\n",
        "Adams B-PER\nlọ O\nsí O\nAbuja B-LOC\n",
    ]
    (folder / "train.txt").write_text("\n".join(sentences * 6), encoding="utf-8")
    (folder / "dev.txt").write_text("\n".join(sentences), encoding="utf-8")
    return folder


def test_train_eval_and_tag_a_column_file(ner_files, tmp_path):
    runner = CliRunner()
    model = tmp_path / "ner.model"
    trained = runner.invoke(
        main,
        ["train", str(ner_files / "train.txt"), "--dev", str(ner_files / "dev.txt"), "-o", str(model), *TINY_OPTIONS],
    )  # fmt: skip
    assert trained.exit_code == 0, trained.output
    info = json.loads(runner.invoke(main, ["info", "-m", str(model), "--json"]).stdout)
    assert info["column"] == "misc:NER"  # entity tags from a column file go to MISC in CoNLL-U

    scored = runner.invoke(main, ["eval", "-m", str(model), str(ner_files / "dev.txt"), "--json"])
    assert scored.exit_code == 0, scored.output
    scores = json.loads(scored.stdout)
    assert scores["column"] == "columns tags"
    assert {"precision", "recall", "f1", "per_type"} <= scores.keys()

    tagged = runner.invoke(
        main, ["tag", "-m", str(model), "-i", "columns", str(ner_files / "dev.txt")]
    )
    assert tagged.exit_code == 0, tagged.output
    lines = tagged.stdout.splitlines()
    assert [line.split(" ")[0] for line in lines[:6]] == ["Gàní", "Adams", "sọ", "ní", "Lagos", ""]
    assert all(len(line.split(" ")) == 2 for line in lines if line)

    # Left out, -i is told from the file: the NER test file as it is released is a column
    # file of the model's labels (it was once tagged as raw text: `# text = Gàní B-PER ...`).
    detected = runner.invoke(main, ["tag", "-m", str(model), str(ner_files / "dev.txt")])
    assert detected.exit_code == 0 and detected.stderr == ""
    assert detected.stdout == tagged.stdout
    told = runner.invoke(main, ["tag", "-m", str(model), "-i", "raw", str(ner_files / "dev.txt")])
    assert told.stderr == (
        f"Warning: {ner_files / 'dev.txt'} looks like a column file; tagging it as raw text as "
        "-i raw says (leave -i out to read it as columns)\n"
    )
    assert told.stdout.startswith("# text = Gàní B-PER")

    as_conllu = runner.invoke(
        main, ["tag", "-m", str(model), "-i", "columns", "-f", "conllu", str(ner_files / "dev.txt")]
    )
    first = as_conllu.stdout.splitlines()[0].split("\t")
    assert first[:2] == ["1", "Gàní"] and first[9].startswith("NER=")


def test_tag_column_is_only_for_column_files(tiny_model, ner_files):
    """With -i raw, tokenized or conllu it is a usage error; left to -i auto, --tag-column
    says the input is a column file."""
    for chosen in ("raw", "tokenized", "conllu"):
        args = ["tag", "-m", str(tiny_model), "-i", chosen, "--tag-column", "2"]
        result = CliRunner().invoke(main, [*args, str(ner_files / "dev.txt")])
        assert result.exit_code == 2
        assert "--tag-column goes with -i columns or -i iob2" in result.stderr
    args = ["tag", "-m", str(tiny_model), "--tag-column", "2", str(ner_files / "dev.txt")]
    assert CliRunner().invoke(main, args).exit_code == 0

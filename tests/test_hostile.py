"""Hostile input through the command line: one error line and exit 1, or it simply works.

Every reader meets broken, odd or huge input with ``Error: FILE:LINE: what is wrong`` and exit
status 1: never a traceback, never a model file from a failed run. The inputs come from
benchmarks/hostile_inputs.py, which runs the same cases through real processes as a table.
"""

from __future__ import annotations

import json
import sys

import pytest
from click.testing import CliRunner
from conftest import ROOT, TINY_OPTIONS
from hypothesis import given, settings
from hypothesis import strategies as st

from seqtag.cli import main
from seqtag.evaluate import score
from seqtag.read import Sentence

sys.path.insert(0, str(ROOT / "benchmarks"))
import hostile_inputs as hostile  # noqa: E402

CONLLU_COMMANDS = ("train", "train --dev", "eval", "tag -i conllu")
TEXT_COMMANDS = ("tag -i tokenized", "tag -i raw")
REPLACE = ["--encoding-errors", "replace"]
FIRST_WORDS = [form for form, _ in hostile.FIRST]
SECOND_WORDS = [form for form, _ in hostile.SECOND]


def invalid_utf8(byte: int) -> str:
    return (
        f"invalid UTF-8 (byte {byte} of the line); fix the file or pass --encoding-errors replace"
    )


PLAIN_TEXT = (
    "this looks like plain text, not a tagged file: expected CoNLL-U or one `word TAG` per line"
)
NUL = "NUL byte in line; is this a binary file?"

# (input, commands, line, message): the line is where the defect is (None: the whole file).
# The CoNLL-U defects sit on line 11, word 2 of the second sentence, after a good sentence.
ERRORS = [
    (
        "wrong-column-count.conllu",
        CONLLU_COMMANDS,
        11,
        "expected 10 tab-separated CoNLL-U fields, found 9",
    ),
    (
        "non-integer-id.conllu",
        CONLLU_COMMANDS,
        11,
        "ID 'two' is not a word number (1), a multiword range (1-2) or an empty node (1.1)",
    ),
    (
        "spaces-for-tabs.conllu",
        CONLLU_COMMANDS,
        11,
        "expected 10 tab-separated CoNLL-U fields, found 1 (spaces where tabs belong?)",
    ),
    ("invalid-utf8.conllu", CONLLU_COMMANDS, 11, invalid_utf8(5)),  # 2 TAB b a \xff
    ("nul-byte.conllu", CONLLU_COMMANDS, 11, NUL),
    (
        "late-defect.conllu",
        ("train", "eval"),
        hostile.LATE_LINE,
        "expected 10 tab-separated CoNLL-U fields, found 9",
    ),
    ("comments-only.conllu", CONLLU_COMMANDS, 1, "sentence has comment lines but no words"),
    ("empty.conllu", ("train", "train --dev", "eval"), None, "no sentences found (empty file?)"),
    (
        "cr-only.conllu",
        CONLLU_COMMANDS,
        1,
        "carriage return inside the line: does the file end its lines with CR alone "
        "(old Mac style)? convert them to line feeds, e.g. with tr '\\r' '\\n'",
    ),
    (
        "utf16.conllu",
        CONLLU_COMMANDS,
        1,
        "the file is UTF-16 (it starts with a UTF-16 byte-order mark); "
        "convert it to UTF-8, e.g. with iconv -f UTF-16 -t UTF-8",
    ),
    ("invalid-utf8.txt", TEXT_COMMANDS, 2, invalid_utf8(8)),  # D o g s SPACE b a \xff
    ("nul-byte.txt", TEXT_COMMANDS, 2, NUL),
    # A model file given where text belongs: called binary, not sent to --encoding-errors.
    ("binary.model", (*CONLLU_COMMANDS, *TEXT_COMMANDS), 1, NUL),
    # Plain text where a tagged file belongs: said to be plain text, not a field count.
    ("prose.txt", ("train", "eval"), None, f"{PLAIN_TEXT} (line 1 has 12 words, line 2 3)"),
    (
        "equal-words.txt",
        ("train",),
        None,
        f"{PLAIN_TEXT}; read as a column file, no tag occurs twice (2 tokens, 2 tags)",
    ),
    (
        "one-label.txt",
        ("train",),
        None,
        "every token has the same tag (O): nothing to learn; training needs CoNLL-U or one "
        "`word TAG` per line with several tags",
    ),
]


@pytest.fixture
def folder(tmp_path):
    """Inputs go in tmp_path; models from training in tmp_path/out, which must stay empty on
    an error (no model, no temporary file)."""
    (tmp_path / "out").mkdir()
    hostile.write_input("good.conllu", tmp_path)  # the training file of `train --dev`
    return tmp_path


def invoke(command: str, name: str, folder, model, *extra: str):
    """Runs a command of hostile_inputs.COMMANDS on one input; training stays tiny and short."""
    path = hostile.write_input(name, folder)
    args = hostile.arguments(command, folder, name, model, list(extra))
    if command.startswith("train"):
        args += [*TINY_OPTIONS, "--max-epochs", "1"]  # the last --max-epochs wins
    return path, CliRunner().invoke(main, args)


def no_crash(result) -> bool:
    """The command ended through the CLI, not through an exception CliRunner caught."""
    return result.exception is None or isinstance(result.exception, SystemExit)


def trained_model(folder, name: str):
    return folder / "out" / f"{name}.model"


def jsonl(stdout: str) -> list[dict]:
    assert stdout == "" or stdout.endswith("\n")
    return [json.loads(line) for line in stdout.split("\n")[:-1]]


def tsv_tokens(stdout: str) -> list[str]:
    return [line.split("\t")[0] for line in stdout.split("\n") if line]


# --- errors: one line, exit 1, nothing written ---------------------------------------------


@pytest.mark.parametrize(
    ("name", "command", "line", "message"),
    [
        pytest.param(name, command, line, message, id=f"{name}-{command}")
        for name, commands, line, message in ERRORS
        for command in commands
    ],
)
def test_hostile_input_is_one_error_line_and_exit_1(
    folder, tiny_model, name, command, line, message
):
    path, result = invoke(command, name, folder, tiny_model)
    where = str(path) if line is None else f"{path}:{line}"
    assert result.stderr == f"Error: {where}: {message}\n"
    assert result.exit_code == 1
    assert no_crash(result) and "Traceback" not in result.output
    assert result.stdout == ""  # the defect is in the first chunk: nothing was tagged
    assert list((folder / "out").iterdir()) == []


def test_a_binary_file_is_called_binary_even_with_replace(folder, tiny_model):
    """--encoding-errors replace, the advice for invalid UTF-8, cannot help a binary file."""
    path, result = invoke("train", "binary.model", folder, tiny_model, *REPLACE)
    assert result.exit_code == 1 and result.stderr == f"Error: {path}:1: {NUL}\n"


def test_an_official_corpus_with_a_stray_inside_tag_trains_with_a_warning(folder, tiny_model):
    path = hostile.write_input("stray-inside.txt", folder)
    args = hostile.arguments("train", folder, "stray-inside.txt", tiny_model, ["--no-progress"])
    args += [o for o in TINY_OPTIONS if o != "-q"] + ["--max-epochs", "1"]
    result = CliRunner().invoke(main, args)  # without -q: the warning is shown
    assert result.exit_code == 0, result.output
    assert "Warning: repaired 1 tag that broke the iob2 scheme" in result.stderr
    assert f"B-X): {path}:4; --strict-scheme stops instead." in result.stderr
    path, result = invoke("train", "stray-inside.txt", folder, tiny_model, "--strict-scheme")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {path}:4: I-ORG after O breaks the iob2 scheme")


@pytest.mark.parametrize("name", ["good.conllu", "upos-columns.txt"])
def test_tag_reads_conllu_and_column_files_as_such_without_being_told(folder, tiny_model, name):
    """Once tagged line by line as raw text, comments and tags included, with exit 0."""
    _, result = invoke("tag", name, folder, tiny_model)
    assert result.exit_code == 0 and result.stderr == ""
    assert tsv_tokens(result.stdout) == FIRST_WORDS + SECOND_WORDS
    path, told = invoke("tag -i raw", name, folder, tiny_model)
    kind = "CoNLL-U" if name.endswith(".conllu") else "a column file"
    assert told.stderr.startswith(f"Warning: {path} looks like {kind}; tagging it as raw text")


def test_tag_stops_at_a_late_defect_after_whole_sentences(folder, tiny_model):
    """`tag` streams, so the sentences before the defect may be out already, but only whole."""
    path, result = invoke("tag -i conllu", "late-defect.conllu", folder, tiny_model, "-f", "conllu")
    assert result.stderr == (
        f"Error: {path}:{hostile.LATE_LINE}: expected 10 tab-separated CoNLL-U fields, found 9\n"
    )
    assert result.exit_code == 1 and no_crash(result)
    blocks = result.stdout.split("\n\n")
    assert blocks.pop() == ""  # the output ends with the blank line after a sentence
    assert hostile.TAG_CHUNK_SENTENCES <= len(blocks) < hostile.LATE_SENTENCES
    assert all(block.count("\n") == 5 for block in blocks)  # 2 comments + 4 words, all there


# --- odd but valid input works -------------------------------------------------------------


@pytest.mark.parametrize("name", ["crlf.conllu", "bom.conllu"])
def test_crlf_and_bom_conllu_work_everywhere(folder, tiny_model, name):
    _, trained = invoke("train", name, folder, tiny_model)
    assert trained.exit_code == 0, trained.output
    assert trained_model(folder, name).exists()
    _, scored = invoke("eval", name, folder, tiny_model)
    assert scored.exit_code == 0, scored.output
    assert json.loads(scored.stdout)["tokens"] == 8
    _, tagged = invoke("tag -i conllu", name, folder, tiny_model)
    assert tagged.exit_code == 0, tagged.output
    assert tsv_tokens(tagged.stdout) == FIRST_WORDS + SECOND_WORDS
    _, written = invoke("tag -i conllu", name, folder, tiny_model, "-f", "conllu")
    assert written.stdout.startswith("# sent_id = 1\n# text = The cat sleeps .\n1\tThe\t")
    assert "\r" not in written.stdout and "\ufeff" not in written.stdout


@pytest.mark.parametrize("command", TEXT_COMMANDS)
@pytest.mark.parametrize("name", ["crlf.txt", "bom.txt"])
def test_crlf_and_bom_text_work(folder, tiny_model, name, command):
    _, result = invoke(command, name, folder, tiny_model)
    assert result.exit_code == 0, result.output
    assert [r["tokens"] for r in jsonl(result.stdout)] == [FIRST_WORDS, SECOND_WORDS]


def test_invalid_utf8_with_replace_goes_on_everywhere(folder, tiny_model):
    bad = "ba\ufffdrk"  # the word whose byte was not UTF-8
    _, trained = invoke("train", "invalid-utf8.conllu", folder, tiny_model, *REPLACE)
    assert trained.exit_code == 0, trained.output
    assert trained_model(folder, "invalid-utf8.conllu").exists()
    _, scored = invoke("eval", "invalid-utf8.conllu", folder, tiny_model, *REPLACE)
    assert scored.exit_code == 0 and json.loads(scored.stdout)["tokens"] == 8
    _, tagged = invoke("tag -i conllu", "invalid-utf8.conllu", folder, tiny_model, *REPLACE)
    assert tsv_tokens(tagged.stdout) == FIRST_WORDS + ["Dogs", bad, "loudly", "."]
    for command in TEXT_COMMANDS:  # raw text too keeps the word whole
        _, result = invoke(command, "invalid-utf8.txt", folder, tiny_model, *REPLACE)
        assert result.exit_code == 0, result.output
        assert [r["tokens"] for r in jsonl(result.stdout)] == [
            FIRST_WORDS,
            ["Dogs", bad, "loudly", "."],
        ]


@pytest.mark.parametrize("command", ["tag -i conllu", "tag -i tokenized", "tag -i raw"])
def test_empty_input_tags_nothing(folder, tiny_model, command):
    name = "empty.conllu" if command == "tag -i conllu" else "empty.txt"
    _, result = invoke(command, name, folder, tiny_model)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


# --- big input -----------------------------------------------------------------------------

LONG = hostile.LONG_SENTENCE_TOKENS


def test_a_10000_token_sentence_is_tagged_whole(folder, tiny_model):
    _, result = invoke("tag -i tokenized", "long-sentence.txt", folder, tiny_model)
    assert result.exit_code == 0, result.output
    [record] = jsonl(result.stdout)
    assert len(record["tokens"]) == len(record["tags"]) == LONG
    _, result = invoke("tag -i conllu", "long-sentence.conllu", folder, tiny_model)
    assert result.exit_code == 0, result.output
    assert len(tsv_tokens(result.stdout)) == LONG
    _, result = invoke("eval", "long-sentence.conllu", folder, tiny_model)
    assert result.exit_code == 0 and json.loads(result.stdout)["tokens"] == LONG


def test_raw_text_of_10000_tokens_on_one_line_is_cut_into_sentences(folder, tiny_model):
    _, result = invoke("tag -i raw", "long-sentence.txt", folder, tiny_model)
    assert result.exit_code == 0, result.output
    records = jsonl(result.stdout)
    assert sum(len(r["tokens"]) for r in records) == sum(len(r["tags"]) for r in records) == LONG


def test_training_on_a_file_with_a_10000_token_sentence(folder, tiny_model):
    _, result = invoke("train", "train-with-long-sentence.conllu", folder, tiny_model)
    assert result.exit_code == 0, result.output
    assert trained_model(folder, "train-with-long-sentence.conllu").exists()


@pytest.mark.parametrize("command", TEXT_COMMANDS)
def test_a_5000_character_word_comes_out_whole_from_text(folder, tiny_model, command):
    _, result = invoke(command, "long-word.txt", folder, tiny_model)
    assert result.exit_code == 0, result.output
    [record] = jsonl(result.stdout)
    assert record["tokens"] == ["The", hostile.LONG_WORD, "sleeps", "."]


def test_a_5000_character_word_in_conllu(folder, tiny_model):
    _, result = invoke("tag -i conllu", "long-word.conllu", folder, tiny_model, "-f", "conllu")
    assert result.exit_code == 0, result.output
    assert f"\n2\t{hostile.LONG_WORD}\t_\t" in result.stdout
    _, result = invoke("eval", "long-word.conllu", folder, tiny_model)
    assert result.exit_code == 0 and json.loads(result.stdout)["tokens"] == 7
    _, result = invoke("train", "long-word.conllu", folder, tiny_model)
    assert result.exit_code == 0, result.output
    assert trained_model(folder, "long-word.conllu").exists()


@pytest.mark.parametrize(
    ("name", "sentences", "tokens", "longest"),
    [
        # Once quadratic in the chunk's length (minutes for this one).
        ("huge-word.txt", 1, 1, 200_000),
        # Once a RecursionError: one level of recursion per address in a chunk.
        ("many-addresses.txt", 6, 5_999, len("user2999@example.org")),
        # Once scanned again from its start at every line: a sentence that never ends.
        ("word-list.txt", 20, 20_000, len("word19999")),
    ],
)
def test_raw_text_the_tokenizer_once_choked_on(
    folder, tiny_model, name, sentences, tokens, longest
):
    _, result = invoke("tag -i raw", name, folder, tiny_model)
    assert result.exit_code == 0, result.output
    records = jsonl(result.stdout)
    assert len(records) == sentences
    assert sum(len(r["tokens"]) for r in records) == tokens
    assert max(len(token) for r in records for token in r["tokens"]) == longest


# --- gold labels the model never saw -------------------------------------------------------


def test_eval_counts_gold_labels_the_model_never_saw_as_errors(folder, tiny_model):
    _, result = invoke("eval", "unseen-labels.conllu", folder, tiny_model)
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    assert scores["tokens"] == 8
    for label in hostile.UNSEEN_LABELS:
        assert scores["per_label"][label]["support"] == 1
        assert scores["per_label"][label]["recall"] == 0.0
    assert scores["accuracy"] <= 6 / 8
    assert scores["unseen_labels"] == sorted(hostile.UNSEEN_LABELS)
    assert result.stderr == (
        f"Warning: gold labels the model never saw in training: "
        f"{', '.join(sorted(hostile.UNSEEN_LABELS))}; their tokens count as errors.\n"
    )


def test_dev_labels_unseen_in_training_are_no_obstacle(folder, tiny_model):
    _, result = invoke("train --dev", "unseen-labels.conllu", folder, tiny_model)
    assert result.exit_code == 0, result.output
    assert trained_model(folder, "unseen-labels.conllu").exists()


def test_score_lists_gold_labels_outside_the_known_ones():
    gold = [Sentence(["a", "b", "c"], ["X", "NEW", "Y"]), Sentence(["d"], ["ALSO_NEW"])]
    predicted = [["X", "X", "Y"], ["Y"]]
    result = score(gold, predicted, known_labels={"X", "Y", "Z"})
    assert result["unseen_labels"] == ["ALSO_NEW", "NEW"]
    assert result["accuracy"] == 2 / 4
    assert score(gold, predicted, known_labels=["X", "Y", "NEW", "ALSO_NEW"])["unseen_labels"] == []
    assert score(gold, predicted)["unseen_labels"] is None  # no label set to judge by


# --- random Unicode through `seqtag tag` ---------------------------------------------------

# Any character but NUL (refused by design, tested above), and often the ones that test line
# handling and the tokenizer: line breaks and their look-alikes, a BOM, replacement characters.
SPECIAL = "\n\r \t\ufeff\u2028\x85\x0b\x1c.!?@'-\ufffd\u0301"
TEXT = st.text(
    st.characters(codec="utf-8", exclude_characters="\x00") | st.sampled_from(SPECIAL),
    max_size=80,
)


def input_lines(text: str) -> list[str]:
    """The lines LineReader makes of the text: split at LF only, a BOM dropped from line one,
    one CR dropped from the end of each line."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # a final newline ends the last line; it does not start another
    if lines and lines[0].startswith("\ufeff"):
        lines[0] = lines[0][1:]
    return [line[:-1] if line.endswith("\r") else line for line in lines]


@settings(max_examples=100, deadline=None)
@given(TEXT)
def test_tag_tokenized_gives_one_json_line_per_input_line(tiny_model, text):
    result = CliRunner().invoke(
        main, ["tag", "-m", str(tiny_model), "-i", "tokenized", "-f", "jsonl"], input=text
    )
    assert result.exit_code == 0, result.output
    records = jsonl(result.stdout)
    assert [r["tokens"] for r in records] == [line.split() for line in input_lines(text)]
    assert all(len(r["tags"]) == len(r["tokens"]) for r in records)


@settings(max_examples=100, deadline=None)
@given(TEXT)
def test_tag_raw_never_crashes_and_loses_no_character(tiny_model, text):
    result = CliRunner().invoke(
        main, ["tag", "-m", str(tiny_model), "-i", "raw", "-f", "jsonl"], input=text
    )
    assert result.exit_code == 0, result.output
    records = jsonl(result.stdout)
    assert all(r["tokens"] and len(r["tags"]) == len(r["tokens"]) for r in records)
    tokens = "".join(token for r in records for token in r["tokens"])
    assert tokens == "".join("".join(input_lines(text)).split())

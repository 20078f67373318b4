"""Hostile inputs: what every seqtag reader does with broken, odd and huge files.

Builds each input in a temporary directory, trains one tiny model, runs the real
``python -m seqtag`` commands on the inputs and prints a markdown table: input, command, exit
status, seconds (including the 2-3 s it takes to start Python and import torch), and the first
line of stderr (or what came out). The builders live here, and tests/test_hostile.py imports
them, so the table and the tests see the same bytes.

    python benchmarks/hostile_inputs.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from seqtag.lines import TAG_CHUNK_SENTENCES

ROOT = Path(__file__).resolve().parent.parent

# Two sentences. Line numbers in the file: sentence 1 on lines 1-6 (two comments, four words),
# a blank line 7, sentence 2 from line 8: comments on 8-9, word 1 on 10, word 2 on line 11.
FIRST = [("The", "DET"), ("cat", "NOUN"), ("sleeps", "VERB"), (".", "PUNCT")]
SECOND = [("Dogs", "NOUN"), ("bark", "VERB"), ("loudly", "ADV"), (".", "PUNCT")]
BROKEN_LINE = 11  # the line the broken_* builders spoil: word 2 of sentence 2
LONG_SENTENCE_TOKENS = 10_000
LONG_WORD = "abcdefghij" * 500  # 5,000 characters, each stretch of ten told apart by position
UNSEEN_LABELS = ("NEWTAG", "OTHERTAG")  # labels no model trained on the English excerpt knows


def conllu_line(number: int, form: str, tag: str) -> str:
    return f"{number}\t{form}\t_\t{tag}\t_\t_\t_\t_\t_\t_"


def conllu_lines(*sentences: list[tuple[str, str]]) -> list[str]:
    """The lines of a CoNLL-U file (no newlines), each sentence with sent_id and text comments."""
    lines: list[str] = []
    for index, words in enumerate(sentences, start=1):
        lines.append(f"# sent_id = {index}")
        lines.append("# text = " + " ".join(form for form, _ in words))
        lines.extend(conllu_line(n, form, tag) for n, (form, tag) in enumerate(words, start=1))
        lines.append("")
    return lines


def encode(lines: list[str], newline: str = "\n") -> bytes:
    return "".join(line + newline for line in lines).encode("utf-8")


def good_conllu() -> bytes:
    return encode(conllu_lines(FIRST, SECOND))


def _broken(line: str | bytes) -> bytes:
    """The two-sentence file with BROKEN_LINE replaced by ``line``."""
    lines = [text.encode("utf-8") for text in conllu_lines(FIRST, SECOND)]
    lines[BROKEN_LINE - 1] = line if isinstance(line, bytes) else line.encode("utf-8")
    return b"".join(text + b"\n" for text in lines)


def wrong_column_count() -> bytes:
    return _broken(conllu_line(2, "bark", "VERB").rsplit("\t", 1)[0])  # 9 fields


def non_integer_id() -> bytes:
    return _broken(conllu_line(2, "bark", "VERB").replace("2", "two", 1))


def spaces_for_tabs() -> bytes:
    return _broken(conllu_line(2, "bark", "VERB").replace("\t", " "))


def invalid_utf8_conllu() -> bytes:
    return _broken(conllu_line(2, "ba\udcffrk", "VERB").encode("utf-8", "surrogateescape"))


def nul_byte_conllu() -> bytes:
    return _broken(conllu_line(2, "ba\x00rk", "VERB"))


LATE_SENTENCES = TAG_CHUNK_SENTENCES + 44  # more than `tag` writes at once: output comes first
LATE_LINE = LATE_SENTENCES * 7 + 4  # word 2 of the sentence after them


def late_defect() -> bytes:
    """LATE_SENTENCES good sentences, then one whose second word line has 9 fields."""
    lines = conllu_lines(*[FIRST] * LATE_SENTENCES, SECOND)
    lines[LATE_LINE - 1] = lines[LATE_LINE - 1].rsplit("\t", 1)[0]
    return encode(lines)


def crlf_conllu() -> bytes:
    return encode(conllu_lines(FIRST, SECOND), newline="\r\n")


def bom_conllu() -> bytes:
    return b"\xef\xbb\xbf" + good_conllu()


def cr_only_conllu() -> bytes:
    """Old Mac line endings: no line feed anywhere."""
    return encode(conllu_lines(FIRST, SECOND), newline="\r")


def utf16_conllu() -> bytes:
    return good_conllu().decode("utf-8").encode("utf-16")  # with its byte-order mark


def long_sentence_words() -> list[tuple[str, str]]:
    cycle = [("the", "DET"), ("cat", "NOUN"), ("sleeps", "VERB"), ("and", "CCONJ")]
    return [cycle[i % len(cycle)] for i in range(LONG_SENTENCE_TOKENS)]


def long_sentence_conllu() -> bytes:
    return encode(conllu_lines(long_sentence_words()))


def train_with_long_sentence() -> bytes:
    return encode(conllu_lines(FIRST, long_sentence_words(), SECOND))


def long_word_conllu() -> bytes:
    return encode(conllu_lines([("The", "DET"), (LONG_WORD, "NOUN"), (".", "PUNCT")], SECOND))


def empty() -> bytes:
    return b""


def comments_only() -> bytes:
    return b"# newdoc id = d1\n# sent_id = 1\n# text = nothing here\n\n# a last comment\n"


def unseen_labels() -> bytes:
    """The two-sentence file with one gold tag in each sentence that no model has seen."""
    first = [(form, UNSEEN_LABELS[0] if form == "cat" else tag) for form, tag in FIRST]
    second = [(form, UNSEEN_LABELS[1] if form == "bark" else tag) for form, tag in SECOND]
    return encode(conllu_lines(first, second))


# Text: one sentence per line (tokenized), or running text (raw).
TEXT = ["The cat sleeps .", "Dogs bark loudly ."]


def good_text() -> bytes:
    return encode(TEXT)


def crlf_text() -> bytes:
    return encode(TEXT, newline="\r\n")


def bom_text() -> bytes:
    return b"\xef\xbb\xbf" + encode(TEXT)


def invalid_utf8_text() -> bytes:
    return encode(TEXT[:1]) + b"Dogs ba\xffrk loudly .\n"  # the bad byte on line 2


def nul_byte_text() -> bytes:
    return encode(TEXT[:1]) + b"Dogs ba\x00rk loudly .\n"


def long_sentence_text() -> bytes:
    return encode([" ".join(form for form, _ in long_sentence_words())])


def long_word_text() -> bytes:
    return encode([f"The {LONG_WORD} sleeps ."])


def huge_word_text() -> bytes:
    """One 200,000-character word: the raw tokenizer must stay linear in the length of a chunk."""
    return encode(["a" * 200_000])


def many_addresses_text() -> bytes:
    """3,000 e-mail addresses glued together by commas, in one whitespace-free chunk."""
    return encode([",".join(f"user{i}@example.org" for i in range(3_000))])


def binary_model() -> bytes:
    """What a model file starts with (a safetensors header: its length as 8 bytes, then JSON),
    then bytes that are not UTF-8: a binary file given where text belongs."""
    header = b'{"__metadata__":{"format":"seqtag-model"}}'
    return len(header).to_bytes(8, "little") + header + b"\xff\xfe\x00\x01" + bytes(range(256))


def stray_inside_columns() -> bytes:
    """A column file of entities with one I-ORG straight after O, as official corpora have."""
    rows = ["Ada B-PER", "works O", "at O", "Acme I-ORG", ". O", "", "Obi B-PER", "sat O", ""]
    return encode(rows[:-1])


def prose_text() -> bytes:
    """Two paragraphs of prose: given to train or eval, where a tagged file belongs."""
    return encode(["The cat sat on the mat and looked at the dog .", "It slept ."])


def equal_words_text() -> bytes:
    """Plain text whose lines have two words each: it reads as a column file of made-up tags."""
    return encode(["hello world", "good morning"])


def one_label_columns() -> bytes:
    return encode(["Ada O", "ran O", "", "Obi O", "sat O"])


def upos_columns() -> bytes:
    """A column file of words and UPOS tags, given to `tag` with no -i (it was read as raw text)."""
    return encode([f"{form} {tag}" for form, tag in FIRST] + [""] + [f"{f} {t}" for f, t in SECOND])


def word_list_text() -> bytes:
    """20,000 lines of one word each and no sentence end: raw text that never ends a sentence."""
    return encode([f"word{i}" for i in range(20_000)])


INPUTS: dict[str, Callable[[], bytes]] = {
    "good.conllu": good_conllu,
    "wrong-column-count.conllu": wrong_column_count,
    "non-integer-id.conllu": non_integer_id,
    "spaces-for-tabs.conllu": spaces_for_tabs,
    "invalid-utf8.conllu": invalid_utf8_conllu,
    "nul-byte.conllu": nul_byte_conllu,
    "late-defect.conllu": late_defect,
    "crlf.conllu": crlf_conllu,
    "bom.conllu": bom_conllu,
    "cr-only.conllu": cr_only_conllu,
    "utf16.conllu": utf16_conllu,
    "long-sentence.conllu": long_sentence_conllu,
    "train-with-long-sentence.conllu": train_with_long_sentence,
    "long-word.conllu": long_word_conllu,
    "empty.conllu": empty,
    "comments-only.conllu": comments_only,
    "unseen-labels.conllu": unseen_labels,
    "good.txt": good_text,
    "crlf.txt": crlf_text,
    "bom.txt": bom_text,
    "invalid-utf8.txt": invalid_utf8_text,
    "nul-byte.txt": nul_byte_text,
    "long-sentence.txt": long_sentence_text,
    "long-word.txt": long_word_text,
    "huge-word.txt": huge_word_text,
    "many-addresses.txt": many_addresses_text,
    "word-list.txt": word_list_text,
    "empty.txt": empty,
    "binary.model": binary_model,
    "stray-inside.txt": stray_inside_columns,
    "prose.txt": prose_text,
    "equal-words.txt": equal_words_text,
    "one-label.txt": one_label_columns,
    "upos-columns.txt": upos_columns,
}


def write_input(name: str, folder: Path) -> Path:
    path = folder / name
    path.write_bytes(INPUTS[name]())
    return path


# Commands, as argument lists with {input}, {model}, {output} and {dev} filled in per run.
COMMANDS: dict[str, list[str]] = {
    "train": ["train", "{input}", "-o", "{output}"],
    "train --dev": ["train", "{dev}", "--dev", "{input}", "-o", "{output}"],
    "eval": ["eval", "-m", "{model}", "{input}", "--json"],
    "tag -i conllu": ["tag", "-m", "{model}", "-i", "conllu", "-f", "tsv", "{input}"],
    "tag -i tokenized": ["tag", "-m", "{model}", "-i", "tokenized", "-f", "jsonl", "{input}"],
    "tag -i raw": ["tag", "-m", "{model}", "-i", "raw", "-f", "jsonl", "{input}"],
    "tag": ["tag", "-m", "{model}", "-f", "tsv", "{input}"],
    "tag --confidence": ["tag", "-m", "{model}", "-f", "jsonl", "--top", "2", "{input}"],
    "select": ["select", "-m", "{model}", "-n", "2", "{input}"],
    "tag --jobs 2": ["tag", "-m", "{model}", "-f", "tsv", "--jobs", "2", "{input}"],
}
REPLACE = ["--encoding-errors", "replace"]

# (input, command, extra options): every input with the commands where it matters.
RUNS: list[tuple[str, str, list[str]]] = [
    *(
        (name, command, [])
        for name in (
            "wrong-column-count.conllu",
            "non-integer-id.conllu",
            "spaces-for-tabs.conllu",
            "invalid-utf8.conllu",
            "nul-byte.conllu",
            "crlf.conllu",
            "bom.conllu",
            "cr-only.conllu",
            "utf16.conllu",
            "long-word.conllu",
            "empty.conllu",
            "comments-only.conllu",
        )
        for command in ("train", "eval", "tag -i conllu")
    ),
    ("wrong-column-count.conllu", "train --dev", []),
    ("late-defect.conllu", "train", []),
    ("late-defect.conllu", "tag -i conllu", []),
    ("invalid-utf8.conllu", "train", REPLACE),
    ("invalid-utf8.conllu", "eval", REPLACE),
    ("invalid-utf8.conllu", "tag -i conllu", REPLACE),
    ("long-sentence.conllu", "eval", []),
    ("long-sentence.conllu", "tag -i conllu", []),
    ("train-with-long-sentence.conllu", "train", []),
    ("unseen-labels.conllu", "eval", []),
    ("unseen-labels.conllu", "train --dev", []),
    *(
        (name, command, [])
        for name in (
            "crlf.txt",
            "bom.txt",
            "invalid-utf8.txt",
            "nul-byte.txt",
            "long-sentence.txt",
            "long-word.txt",
            "empty.txt",
        )
        for command in ("tag -i tokenized", "tag -i raw")
    ),
    ("invalid-utf8.txt", "tag -i tokenized", REPLACE),
    ("invalid-utf8.txt", "tag -i raw", REPLACE),
    ("huge-word.txt", "tag -i raw", []),
    ("many-addresses.txt", "tag -i raw", []),
    ("word-list.txt", "tag -i raw", []),
    *(
        ("binary.model", command, [])
        for command in ("train", "eval", "tag -i conllu", "tag -i tokenized", "tag -i raw")
    ),
    ("binary.model", "train", REPLACE),
    ("stray-inside.txt", "train", []),
    ("stray-inside.txt", "train", ["--strict-scheme"]),
    ("prose.txt", "train", []),
    ("prose.txt", "eval", []),
    ("equal-words.txt", "train", []),
    ("one-label.txt", "train", []),
    ("good.conllu", "tag", []),
    ("upos-columns.txt", "tag", []),
    ("upos-columns.txt", "tag -i raw", []),
    *(
        (name, command, [])
        for name in (
            "long-sentence.conllu",
            "nul-byte.txt",
            "invalid-utf8.txt",
            "empty.txt",
            "huge-word.txt",
            "binary.model",
        )
        for command in ("tag --confidence", "select")
    ),
    *(
        (name, "tag --jobs 2", [])
        for name in (
            "late-defect.conllu",
            "long-sentence.conllu",
            "nul-byte.txt",
            "invalid-utf8.txt",
            "empty.txt",
            "huge-word.txt",
            "binary.model",
        )
    ),
]


def arguments(command: str, folder: Path, name: str, model: Path, extra: list[str]) -> list[str]:
    """The seqtag arguments of one run; training writes to folder/out/<input>.model."""
    fill = {
        "{input}": str(folder / name),
        "{model}": str(model),
        "{output}": str(folder / "out" / f"{name}.model"),
        "{dev}": str(folder / "good.conllu"),
    }
    return [fill.get(arg, arg) for arg in COMMANDS[command]] + extra


def _summary(command: str, returncode: int, stdout: str, stderr: str) -> str:
    if returncode != 0 or stderr.strip():
        return stderr.strip().splitlines()[0] if stderr.strip() else "(no message)"
    if command.startswith("train"):
        return "ok: model written"
    if command == "eval":
        scores = json.loads(stdout)
        return f"ok: {scores['tokens']} tokens scored, accuracy {scores['accuracy']:.3f}"
    if command in ("tag -i conllu", "tag", "tag --jobs 2"):  # tsv: a line a token
        tokens = sum(1 for line in stdout.splitlines() if line)
        return f"ok: {tokens} tokens tagged"
    records = [json.loads(line) for line in stdout.splitlines()]
    tokens = sum(len(record["tokens"]) for record in records)
    longest = max((len(token) for r in records for token in r["tokens"]), default=0)
    return f"ok: {len(records)} sentences, {tokens} tokens tagged, longest token {longest} chars"


def main() -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import DATA, TINY_OPTIONS  # the test suite's tiny model, trained the same way

    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    seqtag = [sys.executable, "-m", "seqtag"]
    with tempfile.TemporaryDirectory(prefix="seqtag-hostile-") as temporary:
        folder = Path(temporary)
        (folder / "out").mkdir()
        for name in INPUTS:
            write_input(name, folder)
        model = folder / "tiny.model"
        subprocess.run(
            [
                *seqtag,
                "train",
                str(DATA / "en_ewt-excerpt-train.conllu"),
                "--dev",
                str(DATA / "en_ewt-excerpt-dev.conllu"),
                "-o",
                str(model),
                *TINY_OPTIONS,
            ],
            check=True,
            env=environment,
        )
        print("| input | command | exit | seconds | first line of stderr, or what came out |")
        print("| --- | --- | ---: | ---: | --- |")
        for name, command, extra in RUNS:
            args = arguments(command, folder, name, model, extra)
            if command.startswith("train"):
                args += [*TINY_OPTIONS, "--max-epochs", "1"]  # the last --max-epochs wins
            started = time.perf_counter()
            done = subprocess.run(
                [*seqtag, *args], capture_output=True, text=True, env=environment, timeout=600
            )
            seconds = time.perf_counter() - started
            summary = _summary(command, done.returncode, done.stdout, done.stderr)
            summary = summary.replace(str(folder) + "/", "").replace("|", "\\|")
            if "Traceback" in done.stderr:
                summary = "TRACEBACK: " + done.stderr.strip().splitlines()[-1]
            shown = " ".join([command, *extra])
            print(f"| {name} | `{shown}` | {done.returncode} | {seconds:.1f} | {summary} |")
            leftovers = list((folder / "out").iterdir())
            if done.returncode != 0 and leftovers:
                print(f"|  | (left behind: {', '.join(p.name for p in leftovers)}) | | | |")
            for path in leftovers:
                path.unlink()


if __name__ == "__main__":
    main()

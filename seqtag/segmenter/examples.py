"""What a treebank teaches about its raw text: each sentence's text, its tokens, and its
multiword tokens, read from the lines of CoNLL-U sentences.

A sentence's text is its ``# text`` comment where the tokens can be found in it in order
(whitespace between them skipped), else the tokens joined as ``SpaceAfter=No`` says. Each
character of the text gets a label: inside a token, the last character of a token, or the last
character of a sentence's last token, the latter two also saying whether the token is a
multiword token (``1-2 del`` over ``de el``); whitespace is "inside" (it never belongs to a
token and is a boundary anyway). Sentences are joined into running text with a space, in file
order, a ``# newdoc`` starting a new text, so the segmenter learns where sentences end from the
text around them.

A token the segmenter marks as multiword gets its words from the training file's own: the
expansion it had there (``multiword_dictionary``), or for a form never seen, the suffix rule of
the longest ending it shares with seen ones (``multiword_rules``: Tamil -ும் splits off உம்,
Galician -lo splits off o and gives the verb back its -r).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from seqtag.read import Sentence

INSIDE, TOKEN_END, SENTENCE_END, MULTIWORD_END, MULTIWORD_SENTENCE_END = range(5)
LABELS = ("inside", "token end", "sentence end", "multiword token end", "multiword sentence end")
ENDS = frozenset({TOKEN_END, SENTENCE_END, MULTIWORD_END, MULTIWORD_SENTENCE_END})
SENTENCE_ENDS = frozenset({SENTENCE_END, MULTIWORD_SENTENCE_END})
MULTIWORD_ENDS = frozenset({MULTIWORD_END, MULTIWORD_SENTENCE_END})
RULE_MIN_COUNT = 2  # a suffix rule is kept when this many multiword tokens of train show it


@dataclass
class Token:
    form: str
    words: list[str]  # the syntactic words: [form] unless it is a multiword token
    space_after: bool = True


@dataclass
class Text:
    """Running text with a label per character."""

    text: str
    labels: list[int] = field(default_factory=list)


def tokens_of(lines: Sequence[str]) -> list[Token]:
    """The surface tokens of one CoNLL-U sentence's lines (empty nodes left out)."""
    tokens: list[Token] = []
    inside_until = 0  # the last word id of the multiword token being read
    for line in lines:
        if line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 10:
            continue
        token_id, form, misc = fields[0], fields[1], fields[9]
        space = "SpaceAfter=No" not in misc.split("|")
        if "-" in token_id:
            last = int(token_id.split("-")[1])
            tokens.append(Token(form, [], space))
            inside_until = last
        elif "." in token_id:
            continue
        elif int(token_id) <= inside_until:
            tokens[-1].words.append(form)
        else:
            tokens.append(Token(form, [form], space))
    return tokens


def sentence_text(lines: Sequence[str], tokens: Sequence[Token]) -> tuple[str, list[int]]:
    """The sentence's text and the (start, end) character span of each token in it."""
    given = next((line[len("# text = ") :] for line in lines if line.startswith("# text = ")), None)
    if given is not None:
        spans = _find(given, tokens)
        if spans is not None:
            return given, spans
    text, spans, position = "", [], 0
    for token in tokens:
        spans.append((position, position + len(token.form)))
        text += token.form + (" " if token.space_after else "")
        position = len(text)
    return text.rstrip(), spans


def _find(text: str, tokens: Sequence[Token]) -> list[tuple[int, int]] | None:
    """Each token's span in ``text``, found in order with only whitespace between; None
    where the text does not hold the tokens so (a treebank's text and forms disagree)."""
    spans, position = [], 0
    for token in tokens:
        while position < len(text) and text[position].isspace():
            position += 1
        end = position + len(token.form)
        if text[position:end] != token.form:
            return None
        spans.append((position, end))
        position = end
    if text[position:].strip():
        return None
    return spans


def running_texts(sentences: Iterable[Sentence]) -> list[Text]:
    """The CoNLL-U sentences as running texts with character labels, one text per paragraph
    (``# newpar``; a document where none is marked): a paragraph break is a blank line in raw
    text, which ends a sentence whatever the segmenter says, so it is not taught as one."""
    texts: list[Text] = []
    for sentence in sentences:
        lines = sentence.lines or []
        tokens = tokens_of(lines)
        if not tokens:
            continue
        text, spans = sentence_text(lines, tokens)
        labels = [INSIDE] * len(text)
        for token, (_, end) in zip(tokens, spans, strict=True):
            labels[end - 1] = MULTIWORD_END if len(token.words) > 1 else TOKEN_END
        last = spans[-1][1] - 1
        labels[last] = MULTIWORD_SENTENCE_END if labels[last] == MULTIWORD_END else SENTENCE_END
        if not texts or any(line.startswith(("# newdoc", "# newpar")) for line in lines):
            texts.append(Text(""))
        current = texts[-1]
        if current.text:
            current.text += " "
            current.labels.append(INSIDE)
        current.text += text
        current.labels.extend(labels)
    return texts


def inner_sentence_ends(texts: Sequence[Text]) -> int:
    """Sentence ends the texts show inside a paragraph (not at its end): what there is to learn
    sentence splitting from."""
    return sum(
        sum(label in SENTENCE_ENDS for label in t.labels[: len(t.text.rstrip())]) - 1
        for t in texts
        if t.text.strip()
    )


def multiword_dictionary(sentences: Iterable[Sentence]) -> dict[str, list[str]]:
    """Surface form -> its words, for the forms written as a multiword token more often than
    as a single word, keyed by the lowercased form (``expand`` restores the case)."""
    as_multiword: dict[str, Counter] = {}
    as_single: Counter = Counter()
    for sentence in sentences:
        for token in tokens_of(sentence.lines or []):
            key = token.form.lower()
            if len(token.words) > 1:
                words = tuple(word.lower() for word in token.words)
                as_multiword.setdefault(key, Counter())[words] += 1
            else:
                as_single[key] += 1
    dictionary = {}
    for key, expansions in as_multiword.items():
        words, count = expansions.most_common(1)[0]
        if sum(expansions.values()) > as_single[key]:
            dictionary[key] = list(words)
    return dictionary


def multiword_rules(sentences: Iterable[Sentence]) -> dict[str, list[str]]:
    """Ending of a multiword token's form -> what replaces it in the first word, then the other
    words: for each multiword token of train, the part of the form after the longest prefix it
    shares with its first word (lowercased). Kept where RULE_MIN_COUNT tokens agree, the most
    frequent replacement for each ending."""
    seen: dict[str, Counter] = {}
    for sentence in sentences:
        for token in tokens_of(sentence.lines or []):
            if len(token.words) < 2:
                continue
            form, first = token.form.lower(), token.words[0].lower()
            shared = 0
            while shared < min(len(form), len(first)) and form[shared] == first[shared]:
                shared += 1
            if shared == 0:
                continue  # nothing of the form is kept: a rule could not apply to a new form
            rule = (first[shared:], *(word.lower() for word in token.words[1:]))
            seen.setdefault(form[shared:], Counter())[rule] += 1
    rules = {}
    for ending, replacements in seen.items():
        rule, count = replacements.most_common(1)[0]
        if count >= RULE_MIN_COUNT:
            rules[ending] = list(rule)
    return rules


@dataclass
class Multiwords:
    """How the segmenter's multiword tokens get their words: the training file's dictionary
    (``multiword_dictionary``), then its suffix rules (``multiword_rules``)."""

    dictionary: dict[str, list[str]] = field(default_factory=dict)
    rules: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._longest = max(map(len, self.rules), default=0)

    def expand(self, form: str) -> list[str]:
        """The words of a multiword token: its dictionary expansion, else the rule of the
        longest ending it has (keeping at least one character of the form), in the token's
        case (all capitals, or a capital first letter); the token itself when neither knows
        it."""
        key = form.lower()
        words = self.dictionary.get(key)
        if words is None and self.rules:
            # Longest ending first, no longer than the longest rule's: linear in the form.
            for start in range(max(1, len(key) - self._longest), len(key) + 1):
                rule = self.rules.get(key[start:])
                if rule is not None:
                    words = [form[:start] + rule[0], *rule[1:]]
                    break
        if words is None:
            return [form]
        if form.isupper() and len(form) > 1:
            return [word.upper() for word in words]
        if form[:1].isupper():
            return [words[0][:1].upper() + words[0][1:], *words[1:]]
        return list(words)

"""Tag dictionary: the tags each word form had in training, so decoding keeps to them.

With a tag dictionary, a word that training saw only as NOUN or VERB is tagged NOUN or VERB,
whatever the network would say; a form training never saw as written is looked up lowercased
(sentence-initial "The" gets the tags training gave "the" and "The"), and words training never
saw in any case are tagged freely. The network is taught not to trust a rare word's own vector
(word dropout, label smoothing), and on a small treebank it then sometimes overrides what
training said of a word seen once or twice; a dictionary gives that knowledge back at decoding
time. Whether it helps depends on the data (ambiguous words whose other readings training never
showed are the risk), which is why `seqtag train --tag-dictionary auto` keeps one only where dev
accuracy says so.

A dictionary is kept with the model's vocabularies (vocab.Vocabularies.tag_dictionary) and is
applied by both engines the same way: a large negative score added to the tags it rules out,
before the argmax (or Viterbi) that picks each tag.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from seqtag.read import Sentence

if TYPE_CHECKING:
    from seqtag.vocab import Vocab

# Added to the score of a tag the dictionary rules out: far below any score a network gives
# (log-probabilities and logits are in the tens at most) yet finite, so sums stay finite.
RULED_OUT = -1e4


@dataclass(frozen=True)
class TagDictionary:
    """For each word form seen in training, the label ids it was seen with.

    Forms point at ``tag_sets`` (a few hundred distinct sets serve tens of thousands of
    forms), so the file stays small and a batch's scores are adjusted with one lookup."""

    n_labels: int
    tag_sets: tuple[tuple[int, ...], ...]  # sorted label ids, each set once
    forms: dict[str, int]  # form -> index into tag_sets
    # Lowercased form -> the tags of all its spellings in train, for forms not in ``forms``.
    # Chosen on dev over exact forms alone (benchmarks/results/pos-suite-ensemble-tagdict).
    # Empty in model files written before it, which then keep to exact forms as they did.
    lowercase: dict[str, int] = field(default_factory=dict)

    @classmethod
    def build(cls, sentences: Iterable[Sentence], labels: Vocab) -> TagDictionary:
        """From training sentences, with ``labels`` the Vocab of the tags (label ids)."""
        seen: dict[str, set[int]] = {}
        lowered: dict[str, set[int]] = {}
        for sentence in sentences:
            for word, tag in zip(sentence.words, sentence.tags, strict=True):
                label = labels.encode(tag)
                seen.setdefault(word, set()).add(label)
                lowered.setdefault(word.lower(), set()).add(label)
        set_index: dict[tuple[int, ...], int] = {}

        def index_of(ids: set[int]) -> int:
            return set_index.setdefault(tuple(sorted(ids)), len(set_index))

        forms = {word: index_of(ids) for word, ids in seen.items()}
        lowercase = {word: index_of(ids) for word, ids in lowered.items()}
        return cls(len(labels), tuple(set_index), forms, lowercase)

    def tag_set_of(self, word: str) -> int:
        """Index into tag_sets of the tags ``word`` may have; -1: any (not in train)."""
        index = self.forms.get(word)
        if index is None:
            index = self.lowercase.get(word.lower(), -1)
        return index

    def __len__(self) -> int:
        return len(self.forms)

    @property
    def _penalty_rows(self) -> np.ndarray:
        """(1 + sets, K): row 0 adds nothing (a word not in the dictionary, or padding), row
        i + 1 rules out the tags that set i lacks."""
        rows = self.__dict__.get("_rows")
        if rows is None:
            rows = np.full((len(self.tag_sets) + 1, self.n_labels), RULED_OUT, dtype=np.float32)
            rows[0] = 0.0
            for i, ids in enumerate(self.tag_sets, start=1):
                rows[i, list(ids)] = 0.0
            self.__dict__["_rows"] = rows  # a cache, not a field: frozen dataclasses allow it
        return rows

    def penalties(self, sentences: Sequence[Sentence], steps: int) -> np.ndarray:
        """(B, steps, K) scores to add to a batch's label scores: 0 where a tag is allowed,
        RULED_OUT where the dictionary rules it out; positions past a sentence's end get 0."""
        rows = np.zeros((len(sentences), steps), dtype=np.int64)
        for b, sentence in enumerate(sentences):
            rows[b, : len(sentence.words)] = [self.tag_set_of(w) + 1 for w in sentence.words]
        return self._penalty_rows[rows]

    def to_dict(self) -> dict[str, Any]:
        return {
            "tag_sets": [list(ids) for ids in self.tag_sets],
            "forms": self.forms,
            "lowercase": self.lowercase,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], n_labels: int) -> TagDictionary:
        """Read back what ``to_dict`` wrote, checked: a damaged file must not index past the
        label set (a ValueError, which the model-file reader reports as damage)."""
        try:
            tag_sets = tuple(tuple(int(i) for i in ids) for ids in data["tag_sets"])
            forms = {str(form): int(index) for form, index in data["forms"].items()}
            lowercase = {str(form): int(i) for form, i in data.get("lowercase", {}).items()}
        except (KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"tag dictionary: {error}") from None
        if any(not ids or min(ids) < 0 or max(ids) >= n_labels for ids in tag_sets):
            raise ValueError("tag dictionary: a tag set names a label the model lacks")
        if any(not 0 <= i < len(tag_sets) for i in [*forms.values(), *lowercase.values()]):
            raise ValueError("tag dictionary: a word points at no tag set")
        return cls(n_labels, tag_sets, forms, lowercase)

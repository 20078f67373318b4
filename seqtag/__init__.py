"""seqtag: BiLSTM/BiGRU sequence taggers for part of speech and named entities, built for small data.

The data flow is visible from the module names:
read -> tokenize -> vocab -> batch -> model -> decode -> write, with train, evaluate, modelfile
and cli around it. Only ``cli`` prints; library code returns values or raises ``SeqtagError``.
"""

__version__ = "0.1.0"


class SeqtagError(Exception):
    """An expected failure the user can act on; the CLI prints it as ``Error: FILE:LINE: message``."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}:{self.line}: " if self.line is not None else f"{self.path}: "
        return where + self.message


def __getattr__(name: str):
    # The Python API lives in seqtag.api, which imports torch; import it lazily so that
    # `import seqtag` (and `seqtag --help`) stays fast.
    if name == "Tagger":
        from seqtag.api import Tagger

        return Tagger
    raise AttributeError(f"module 'seqtag' has no attribute {name!r}")


__all__ = ["SeqtagError", "Tagger", "__version__"]

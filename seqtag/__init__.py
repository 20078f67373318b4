"""seqtag: BiLSTM/BiGRU sequence taggers for part of speech and named entities, built for small data.

The data flow is visible from the module names:
read/tokenize -> vocab -> batch -> architecture/model -> predict (numpy_engine, torch_engine)
-> write, with train/members/run (training as one call, ``run.train_run``), evaluate,
modelfile, checkpoint, api and cli around it. Only ``cli`` prints; library code returns values
or raises ``SeqtagError`` (errors.py). README's Development section has the whole map.
"""

from seqtag.errors import SeqtagError
from seqtag.version import __version__


def __getattr__(name: str):
    # The Python API lives in seqtag.api, which imports torch; import it lazily so that
    # `import seqtag` (and `seqtag --help`) stays fast.
    if name == "Tagger":
        from seqtag.api import Tagger

        return Tagger
    raise AttributeError(f"module 'seqtag' has no attribute {name!r}")


__all__ = ["SeqtagError", "Tagger", "__version__"]

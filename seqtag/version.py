"""The version of seqtag, written into every model file and checkpoint."""

__version__ = "0.1.0"

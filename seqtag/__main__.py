"""Entry point for ``python -m seqtag``."""

from seqtag.cli import main

if __name__ == "__main__":
    main()

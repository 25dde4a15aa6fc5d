"""``python -m occontrol``: the ``occontrol`` command."""

import sys

from .cli import main

if __name__ == "__main__":  # pragma: no cover - run as a program
    sys.exit(main())

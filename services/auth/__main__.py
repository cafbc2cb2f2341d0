"""``python -m services.auth``: servicekit's command line, for the service of ``definition``."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from servicekit.cli import main as run
from services.auth.definition import SERVICE


def main(argv: Sequence[str] | None = None) -> int:
    return run(SERVICE, argv)


if __name__ == "__main__":
    sys.exit(main())

"""Commands of the later stages (extract, changes, flags, ...), registered on the parser."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add the later stages' subcommands (none yet beyond the foundation)."""
    return None

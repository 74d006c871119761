"""Sub-commands of ``hazardboard`` (being written)."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def add_parsers(commands, add_store_option: Callable[[argparse.ArgumentParser], None]) -> None:
    """Register this module's sub-commands on the CLI's sub-parsers."""

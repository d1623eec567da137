"""Benchmark workloads behind ``keel bench ...``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rich.console import Console


def report(figures: Mapping[str, Any], json_out: bool) -> None:
    """A bench's figures: one JSON object on the last line of stdout with ``--json``, else one aligned line
    each on stderr."""
    if json_out:
        print(json.dumps(figures))
        return
    width = max(map(len, figures), default=0)
    console = Console(stderr=True)
    for key, value in figures.items():
        console.print(f"{key:>{width}}: {value}", highlight=False)

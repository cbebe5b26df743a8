"""Print a benchmark table and keep it in bench/RESULTS.md under its own heading."""

from __future__ import annotations

import os
import platform
import re
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def record(title: str, columns: list[str], rows: list[list[str]], note: str = "") -> None:
    """Print ``rows`` as a Markdown table and replace the ``## title`` section of RESULTS.md."""
    lines = [
        f"## {title}",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {machine()}.",
        "",
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
    ]
    if note:
        lines += [note, ""]
    section = "\n".join(lines)
    print(section)
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(section + "\n", text) if pattern.search(text) else text + section + "\n"
    tmp = RESULTS.with_suffix(".md.tmp")
    tmp.write_text(text)
    tmp.replace(RESULTS)

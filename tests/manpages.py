"""manpages: the man pages of man/ as `man -l` renders them, and the commands of their
EXAMPLES sections (tests/unit/test_man_pages.py, tests/privileged/test_man_examples.py)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def render(page: Path, width: int = 100) -> str:
    """render: the page as `man -l` shows it, `width` columns wide, without bold or
    underline."""
    done = subprocess.run(
        ["man", "-l", str(page)],
        capture_output=True,
        text=True,
        env={"MANWIDTH": str(width), "MANPAGER": "cat", "PAGER": "cat", "MAN_KEEP_FORMATTING": ""},
        check=True,
    )
    return re.sub(r".\x08", "", done.stdout)


def examples(page: Path) -> list[tuple[str, list[str]]]:
    """examples: the (command, output lines) of the EXAMPLES section: a command follows a
    `$ ` or `# ` prompt (a line ending in a backslash or a pipe goes on on the next); the
    lines after it up to a blank line are its output as shown."""
    section = render(page, 200).split("\nEXAMPLES\n")[1].split("\nSEE ALSO\n")[0]
    found: list[tuple[str, list[str]]] = [("", [])]  # ("", ...): prose, not a command
    continued, indent = False, 0
    for raw in section.splitlines():
        line = raw.strip()
        if continued:
            found[-1] = (found[-1][0] + " " + line.rstrip("\\").strip(), [])
        elif line[:2] in ("$ ", "# "):
            found.append((line.rstrip("\\").strip(), []))
            indent = len(raw) - len(raw.lstrip())
        elif line:
            found[-1][1].append(raw[indent:].rstrip())
        else:
            found.append(("", []))
        continued = line.endswith(("\\", "|"))
    return [(command, shown) for command, shown in found if command]

"""batch: iproute2's -batch FILE|- line reader (lib/utils.c getcmdline + makeargs).

A `#` anywhere ends the line (even inside quotes), a backslash before the newline joins the
next line, words are split on blanks, and '...' or "..." quote a word (no escapes).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TextIO

from pybpftool.cli.grammar import IprouteExit


def command_lines(stream: TextIO) -> Iterator[tuple[int, list[str]]]:
    """command_lines: (line number, words) of each non-empty command of a batch stream."""
    number = 0
    pending = ""
    for raw in stream:
        number += 1
        line = raw.rstrip("\n")
        if line.endswith("\\"):
            pending += line[:-1]
            continue
        line, pending = pending + line, ""
        words = split_words(line.split("#", 1)[0])
        if words:
            yield number, words
    if pending:
        words = split_words(pending.split("#", 1)[0])
        if words:
            yield number, words


def split_words(line: str) -> list[str]:
    """split_words: makeargs(): blanks separate words, quotes group them."""
    words: list[str] = []
    i, n = 0, len(line)
    while i < n:
        if line[i] in " \t\r\n":
            i += 1
            continue
        if line[i] in "'\"":
            quote = line[i]
            end = line.find(quote, i + 1)
            if end < 0:
                raise IprouteExit("Unterminated quoted string", 1)  # exit(1) in makeargs
            words.append(line[i + 1 : end])
            i = end + 1
            continue
        start = i
        while i < n and line[i] not in " \t\r\n":
            i += 1
        words.append(line[start:i])
    return words

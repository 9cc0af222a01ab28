"""batch: iproute2's -batch FILE|- line reader (lib/utils.c getcmdline + makeargs).

A `#` anywhere ends the line (even inside quotes), a backslash before the newline joins the
next line, words are split on blanks, and '...' or "..." quote a word (no escapes). Lines
are split on `\\n` only, as getline() does. The errors come where iproute2 meets them: the
commands before a bad line run first.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TextIO

from pybpftool.cli.common.grammar import IprouteExit

MAX_ARGS = 512  # include/utils.h: makeargs() takes at most MAX_ARGS - 1 words


class MissingContinuation(IprouteExit):
    """MissingContinuation: the input ended right after a backslash-newline. getcmdline()
    says so and the batch ends there, its status that of the commands before."""

    def __init__(self) -> None:
        super().__init__("Missing continuation line", 0, fatal=False)


def _cut_comment(line: str) -> str:
    return line.split("#", 1)[0]


def command_lines(stream: TextIO) -> Iterator[tuple[int, list[str]]]:
    """command_lines: (number of its last line, words) of each non-empty command of a batch
    stream; raises when it reaches an unreadable one (MissingContinuation, or makeargs'
    exit(1) errors)."""
    pieces = stream.read().split("\n")
    physical = [piece + "\n" for piece in pieces[:-1]]
    if pieces[-1]:
        physical.append(pieces[-1])
    number = 0
    while number < len(physical):
        line = _cut_comment(physical[number])
        number += 1
        while line.endswith("\\\n"):
            if number == len(physical):
                raise MissingContinuation()
            line = line[:-2] + _cut_comment(physical[number])
            number += 1
        words = split_words(line)
        if words:
            yield number, words


_UNQUOTED_WORD = re.compile(r"[^ \t\r\n]+")


def split_words(line: str) -> list[str]:
    """split_words: makeargs(): blanks separate words, quotes group them."""
    if "'" not in line and '"' not in line:
        words = _UNQUOTED_WORD.findall(line)  # no quotes: the blanks alone cut the words
        if len(words) > MAX_ARGS - 1:
            raise IprouteExit("Too many arguments to command", 1, fatal=True)  # exit(1)
        return words
    words = []
    i, n = 0, len(line)
    while i < n:
        if line[i] in " \t\r\n":
            i += 1
            continue
        if len(words) >= MAX_ARGS - 1:
            raise IprouteExit("Too many arguments to command", 1, fatal=True)  # exit(1)
        if line[i] in "'\"":
            quote = line[i]
            end = line.find(quote, i + 1)
            if end < 0:
                raise IprouteExit("Unterminated quoted string", 1, fatal=True)  # exit(1)
            words.append(line[i + 1 : end])
            i = end + 1
            continue
        start = i
        while i < n and line[i] not in " \t\r\n":
            i += 1
        words.append(line[start:i])
    return words

"""words: a cursor over a command's words with iproute2's helpers (NEXT_ARG, duparg, invarg).

The helpers' errors are fatal: iproute2 exit()s in them, so they end a -batch at once.
"""

from __future__ import annotations

from pybpftool.cli.common.grammar import IprouteExit, matches


class Words:
    """Words: the remaining words of a command line, consumed left to right.

    Read the Python way (peek, take, at) or the way tc's C parsers walk argc/argv (argc,
    cur, fwd, next_arg), for the ports whose messages depend on where the C code stands.
    """

    def __init__(self, words: list[str], pos: int = 0) -> None:
        self.words = words
        self.pos = pos

    def __bool__(self) -> bool:
        return self.pos < len(self.words)

    def peek(self) -> str | None:
        return self.words[self.pos] if self else None

    def left(self) -> int:
        return len(self.words) - self.pos

    def take(self) -> str:
        """take: the current word, then move on (NEXT_ARG: incomplete command if none)."""
        pos = self.pos
        if pos >= len(self.words):
            raise incomplete()
        self.pos = pos + 1
        return self.words[pos]

    def at(self, keyword: str, exact: bool = False) -> bool:
        """at: the current word is `keyword` (or, unless exact, a prefix of it)."""
        word = self.peek()
        if word is None:
            return False
        return word == keyword if exact else matches(word, keyword)

    # --- C's argc/argv: `cur` is *argv (None past the end) ---

    @property
    def argc(self) -> int:
        return self.left()

    @property
    def cur(self) -> str | None:
        return self.peek()

    def word(self) -> str:
        """word: *argv where the C code dereferences it unchecked (None reads as "")."""
        return self.peek() or ""

    def fwd(self) -> None:
        """fwd: NEXT_ARG_FWD(), argc--, argv++ (past the end too)."""
        self.pos += 1

    def next_arg(self) -> str:
        """next_arg: NEXT_ARG(): the next word (incomplete command if none)."""
        self.pos += 1
        if not self:
            raise incomplete()
        return self.words[self.pos]


# lib/utils.c's helpers below print and exit(-1): `fatal`, so a -batch ends at once with 255.


def incomplete() -> IprouteExit:
    """incomplete: incomplete_command() (NEXT_ARG() with no next word)."""
    return IprouteExit('Command line is not complete. Try option "help"', 255, fatal=True)


def missarg(key: str) -> IprouteExit:
    return IprouteExit(f'Error: argument "{key}" is required', 255, fatal=True)


def duparg(key: str, value: str) -> IprouteExit:
    return IprouteExit(f'Error: duplicate "{key}": "{value}" is the second value.', 255, fatal=True)


def duparg2(key: str, value: str) -> IprouteExit:
    return IprouteExit(
        f'Error: either "{key}" is duplicate, or "{value}" is a garbage.', 255, fatal=True
    )


def invarg(message: str, arg: str) -> IprouteExit:
    return IprouteExit(f'Error: argument "{arg}" is wrong: {message}', 255, fatal=True)

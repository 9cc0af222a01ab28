"""fuzz_lines: a fuzzer line (its tool, its words with their roles) and the word lists the
grammar and the mutations draw from."""

from __future__ import annotations

from dataclasses import dataclass

# Roles a token can have; mutations choose by role.
KW, DEV, NUM, PATH, VAL, OPT = "kw", "dev", "num", "path", "val", "opt"

Token = tuple[str, str]  # (text, role)


@dataclass
class Line:
    """Line: one command line for one tool, or a batch file run through it."""

    category: str
    tool: str  # "ip" or "tc"
    tokens: list[Token]
    batch: str | None = None  # the batch file's text, for `-batch {batch}` lines
    stdin: str | None = None  # text on standard input (`-batch -`)
    mutation: str = "valid"
    tty: bool = False  # run on a terminal (colour decisions)

    @property
    def words(self) -> list[str]:
        return [text for text, _role in self.tokens]

    def __str__(self) -> str:
        return " ".join([self.tool, *(_shown(w) for w in self.words)])


def _shown(word: str) -> str:
    if word and all(c.isalnum() or c in "-_.:/{}=,@%+" for c in word):
        return word
    return "'" + word.replace("'", "'\\''") + "'"


def kw(*words: str) -> list[Token]:
    return [(w, KW) for w in words]


DEVICES = ("v0", "v0", "v0", "v1", "x0")  # x0's peer lives in another namespace
BAD_DEVICES = ("nope", "", " a0", "a/b", "abcdefghijklmnopq", "abcdefghijklmno", "if3", "*",
               "\x1b[31mred")  # fmt: skip
NUMBERS = (
    "0",
    "1",
    "7",
    "10",
    "0x10",
    "010",
    "08",
    "-1",
    "4294967295",
    "4294967296",
    "0xffffffff",
    "99999999999999999999",
    "1e3",
    "+5",
    " 3",
    "0x",
    "x",
)

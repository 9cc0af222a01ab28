"""fuzz_mutate: the mistakes and tricks applied to fuzz_grammar's lines (a keyword cut to a
prefix, misspelt, a number in another base or out of range, a keyword repeated, a device
that is not there, a word dropped, added or swapped), and -batch files made of lines.

A mixin of fuzz_grammar.Grammar: it uses the grammar's random source and line makers.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from differential.fuzz_lines import BAD_DEVICES, DEV, KW, NUM, NUMBERS, OPT, PATH, VAL, Line, Token

if TYPE_CHECKING:
    from collections.abc import Callable


class Mutations(random.Random):
    """Mutations: batch() and mutate(), for a Grammar."""

    ip_link_set: Callable[[], Line]
    ip_link_show: Callable[[], Line]
    ip_vrf: Callable[[], Line]
    tc_qdisc: Callable[[], Line]
    tc_filter: Callable[[], Line]
    tc_actions: Callable[[], Line]
    tc_chain: Callable[[], Line]

    # --- batches ------------------------------------------------------------------------

    def batch(self) -> Line:
        tool = self.choice(["ip", "tc"])
        makers = (
            [self.ip_link_set, self.ip_link_show, self.ip_vrf]
            if tool == "ip"
            else [self.tc_qdisc, self.tc_filter, self.tc_actions, self.tc_chain]
        )
        rows = []
        for _ in range(self.randint(1, 6)):
            r = self.random()
            if r < 0.1:
                rows.append("# a comment 'with quotes")
            elif r < 0.15:
                rows.append("")
            elif r < 0.2:
                rows.append(self.choice(["help", "link help", "qdisc help", "filter help"]))
            else:
                sub = (
                    self.mutate(self.choice(makers)())
                    if self.random() < 0.3
                    else self.choice(makers)()
                )
                words = [w for w, role in sub.tokens if role != OPT]
                text = " ".join(_quoted(self, w) for w in words)
                if self.random() < 0.1 and " " in text:
                    head, _, tail = text.partition(" ")
                    text = head + " \\\n    " + tail
                if self.random() < 0.1:
                    text += "   # trailing comment"
                rows.append(text)
        text = "\n".join(rows) + ("\n" if self.random() < 0.9 else "")
        opts = [("-force", OPT)] if self.random() < 0.5 else []
        if self.random() < 0.2:
            return Line("batch", tool, [*opts, ("-batch", OPT), ("-", PATH)], stdin=text)
        return Line("batch", tool, [*opts, ("-batch", OPT), ("{batch}", PATH)], batch=text)

    # --- mutations ----------------------------------------------------------------------

    def mutate(self, line: Line) -> Line:
        """mutate: `line` with one of the mistakes (or tricks) a script author makes."""
        name = self.choice(
            [
                "abbreviate",
                "abbreviate",
                "typo",
                "number",
                "number",
                "duplicate",
                "device",
                "device",
                "drop",
                "append",
                "swap",
            ]
        )
        tokens = list(line.tokens)
        made = getattr(self, f"_m_{name}")(tokens)
        if made is None:
            return line
        return Line(line.category, line.tool, made, line.batch, line.stdin, name)

    def _m_abbreviate(self, tokens: list[Token]) -> list[Token] | None:
        spots = [
            i
            for i, (w, role) in enumerate(tokens)
            if role in (KW, OPT) and len(w) > (2 if w.startswith("-") else 1)
        ]
        if not spots:
            return None
        i = self.choice(spots)
        word = tokens[i][0]
        keep = 2 if word.startswith("-") else 1
        tokens[i] = (word[: self.randint(keep, len(word) - 1)], tokens[i][1])
        return tokens

    def _m_typo(self, tokens: list[Token]) -> list[Token] | None:
        spots = [i for i, (w, role) in enumerate(tokens) if role in (KW, VAL, OPT) and w]
        if not spots:
            return None
        i = self.choice(spots)
        word = list(tokens[i][0])
        at = self.randrange(len(word))
        how = self.choice(["swap", "drop", "add", "case"])
        if how == "drop" and len(word) > 1:
            del word[at]
        elif how == "add":
            word.insert(at, self.choice("aeiouxz-_0"))
        elif how == "case":
            word[at] = word[at].swapcase()
        elif at + 1 < len(word):
            word[at], word[at + 1] = word[at + 1], word[at]
        text = "".join(word)
        if text == "default":
            return None  # `vrf exec default` would make a cgroup: never
        tokens[i] = (text, tokens[i][1])
        return tokens

    def _m_number(self, tokens: list[Token]) -> list[Token] | None:
        spots = [i for i, (_w, role) in enumerate(tokens) if role == NUM]
        if not spots:
            return None
        tokens[self.choice(spots)] = (self.choice(NUMBERS), NUM)
        return tokens

    def _m_duplicate(self, tokens: list[Token]) -> list[Token] | None:
        spots = [
            i
            for i, (_w, role) in enumerate(tokens)
            if role == KW and i + 1 < len(tokens) and tokens[i + 1][1] != KW
        ]
        if not spots:
            return None
        i = self.choice(spots)
        return tokens + tokens[i : i + 2]

    def _m_device(self, tokens: list[Token]) -> list[Token] | None:
        spots = [i for i, (_w, role) in enumerate(tokens) if role == DEV]
        if not spots:
            return None
        tokens[self.choice(spots)] = (self.choice(BAD_DEVICES), DEV)
        return tokens

    def _m_drop(self, tokens: list[Token]) -> list[Token] | None:
        if len(tokens) < 2:
            return None
        del tokens[self.randrange(1, len(tokens))]
        return tokens

    def _m_append(self, tokens: list[Token]) -> list[Token]:
        extra = self.choice(["help", "bogus", "dev", "v1", "verbose", "da", "off", "0", "--"])
        return [*tokens, (extra, VAL)]

    def _m_swap(self, tokens: list[Token]) -> list[Token] | None:
        if len(tokens) < 3:
            return None
        i = self.randrange(1, len(tokens) - 1)
        tokens[i], tokens[i + 1] = tokens[i + 1], tokens[i]
        return tokens


def _quoted(rng: random.Random, word: str) -> str:
    if word == "" or " " in word or rng.random() < 0.05:
        return ("'" if rng.random() < 0.5 else '"') + word + ("'" if "'" not in word else '"')
    return word

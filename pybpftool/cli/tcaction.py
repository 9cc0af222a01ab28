"""tcaction: actions inside a filter: `action bpf ...` (tc/m_bpf.c) and gact control words.

    action bpf [run] MODE [CONTROL]    MODE as for filters, type sched_act, section `action`
    action [gact] CONTROL              CONTROL := ok|pass|pipe|drop|shot|reclassify|stolen

The bpf action's program is loaded while the line is parsed, as tc does; the filter command
undoes that load when the kernel refuses the filter.
"""

from __future__ import annotations

from dataclasses import dataclass

from pybpftool.cli.bpfsource import BpfSource, parse_mode
from pybpftool.cli.grammar import IprouteExit, matches
from pybpftool.cli.usage import GACT_USAGE
from pybpftool.cli.words import Words

CONTROLS = {
    "ok": "ok",
    "pass": "ok",
    "pipe": "pipe",
    "drop": "drop",
    "shot": "shot",
    "reclassify": "reclassify",
    "stolen": "stolen",
}


@dataclass(frozen=True)
class ActionSpec:
    """ActionSpec: one action of a filter, as parsed."""

    kind: str  # "bpf" or "gact"
    control: str
    source: BpfSource | None = None


def parse_actions(words: Words) -> list[ActionSpec]:
    """parse_actions: every `action ...` from here to the end of the line."""
    actions = []
    while words and words.at("action"):
        words.take()
        kind = words.take()
        if kind == "bpf":
            actions.append(_bpf_action(words))
        elif kind == "gact":
            actions.append(ActionSpec("gact", _control(words.take())))
        elif kind in CONTROLS:
            actions.append(ActionSpec("gact", _control(kind)))
        else:
            # tc hands an unknown kind to gact, which reads it as a control word.
            actions.append(ActionSpec("gact", _control(kind)))
    if words:
        raise IprouteExit(f'What is "{words.peek()}"?', 1)
    return actions


def _bpf_action(words: Words) -> ActionSpec:
    source = None
    while words and source is None:
        word = words.peek() or ""
        if matches(word, "run"):
            words.take()
        elif matches(word, "index"):
            raise IprouteExit('pytc: "index" of a bpf action is not implemented.', 1)
        source = parse_mode(words, allow_bytecode=True, allow_type=False)
    if source is None:
        raise IprouteExit('Command line is not complete. Try option "help"', 255)
    control = "pipe"  # m_bpf's default
    if words and (words.peek() or "") in CONTROLS:
        control = _control(words.take())
    return ActionSpec("bpf", control, source)


def _control(word: str) -> str:
    if word not in CONTROLS:
        raise IprouteExit(f"Bad action type {word}\n{GACT_USAGE}", 255)
    return CONTROLS[word]

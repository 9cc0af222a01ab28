"""bpfopts: the words after `bpf` in a tc filter or chain template, as f_bpf.c's
bpf_parse_opt() reads them: run MODE, classid/flowid, da, skip_hw, skip_sw, action lists
(tc's action grammar, actparse.py), help; a pinned program is fetched where its words stand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pybpftool.cli.common.bpfsource import BpfSource, parse_mode
from pybpftool.cli.common.grammar import IprouteExit, matches
from pybpftool.cli.common.usage import BPF_USAGE
from pybpftool.cli.common.words import Words, duparg, incomplete
from pybpftool.cli.tc.filterprog import ParseFailed, ParseSession, classic_ops
from pybpftool.cli.tc.handles import tc_classid_value

if TYPE_CHECKING:
    from pybpftool.cli.tc.filter import FilterRequest
    from pybpftool.netlink.clsbpf import ActionList


def parse_bpf_options(req: FilterRequest, words: Words, session: ParseSession) -> None:
    """parse_bpf_options: f_bpf.c bpf_parse_opt's loop; the programs of bpf actions are
    loaded into `session`. ParseFailed after tc's messages of a bad action list."""
    seen_run = False
    while words:
        word = words.peek() or ""
        if matches(word, "run"):
            words.take()
            if not words:
                raise incomplete()  # NEXT_ARG() comes before the duplicate check
            if seen_run:
                raise duparg("run", words.peek() or "")
            seen_run = True
            req.source = _mode(words)
            continue
        if matches(word, "classid") or matches(word, "flowid"):
            words.take()
            req.given.append(_classid(words.take()))
        elif matches(word, "direct-action") or matches(word, "da"):
            words.take()
            req.direct_action = True
        elif matches(word, "skip_hw"):
            words.take()
            req.skip_hw = True
        elif matches(word, "skip_sw"):
            words.take()
            req.skip_sw = True
        elif matches(word, "action"):
            words.next_arg()
            req.given.append(_actions(words, session))
        elif matches(word, "police"):
            raise IprouteExit(f'pytc filter: "{word}" in a bpf filter is not implemented.', 1)
        elif matches(word, "help"):
            raise IprouteExit(BPF_USAGE, 1)
        elif not seen_run:
            seen_run = True
            req.source = _mode(words)
        else:
            raise IprouteExit(f'What is "{word}"?\n{BPF_USAGE}', 1)


def _actions(words: Words, session: ParseSession) -> ActionList:
    """_actions: one `action ...` list (f_bpf.c: parse_action, then tc's complaint)."""
    from pybpftool.cli.common.frontend import say
    from pybpftool.cli.tc.actparse import parse_action  # lines with actions only
    from pybpftool.netlink.clsbpf import ActionList

    try:
        return ActionList(tuple(parse_action(words, session)))
    except ParseFailed:
        say('Illegal "action"')
        raise


def _mode(words: Words) -> BpfSource:
    try:
        source = parse_mode(words, allow_bytecode=True, allow_type=False)
    except IprouteExit as err:
        if err.fatal:
            raise  # tc exit()ed inside bpf_parse: nothing more is printed
        raise IprouteExit(f"{err.message}\nUnable to parse bpf command line", 1) from None
    classic_ops(source)  # like tc, bytecode is checked where it stands on the command line
    if source.mode == "pinned":
        _fetch_pinned(source)
    return source


def _fetch_pinned(source: BpfSource) -> None:
    """_fetch_pinned: tc's bpf_parse_common() fetches a pinned program where its words stand
    (bpf_obj_get), before it reads the words after them, for a delete or get too: a missing
    pin is reported before any later word is looked at. The program is opened again when
    the filter is sent."""
    from pybpftool.cli.common.attach import open_pinned
    from pybpftool.cli.common.failures import load_failure_text
    from pybpftool.errors import PyBpfError

    try:
        open_pinned(source, "tc").close()
    except PyBpfError as err:
        text = load_failure_text(err)
        raise IprouteExit(f"{text}\nUnable to parse bpf command line", 1) from None


def _classid(text: str) -> int:
    value = tc_classid_value(text)
    if value is None:
        raise IprouteExit('Illegal "classid"', 1)
    return value

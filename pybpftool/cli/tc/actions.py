"""actions: `pytc actions ...`, tc 6.1's standalone action commands (tc/m_action.c).

    tc actions {add|change|replace} ACTSPEC...      ACTSPEC := action KIND PARAMS [cookie HEX]
                                                    [hw_stats TYPE] [no_percpu] [skip_sw|skip_hw]
    tc actions {get|delete} WORD KIND index N [[action] KIND index N]...
    tc actions {list|show|lst|flush} WORD KIND [since MSEC]

KIND is gact (or a control word: pass, drop, ...), bpf or mirred; tc's other action kinds are
refused by name. Everything is read as do_action() reads it: one line may carry several
commands (an action list ends at the next add/change/replace/delete/get), the word after
get/delete/list/flush is skipped whatever it is, a kind tc does not know is gact, and a
kernel refusal of get/delete makes tc read the line again from that skipped word (hence its
`Command "action" is unknown` after the kernel's message). Exit status 255 for every failure
but a failed flush (1), as tc's.

The action list is read by the one action grammar (actparse.py) into netlink.actions
records, which netlink.ActionRequests encodes byte for byte as tc builds them (unit-tested
against captured tc requests) and sends.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from pybpftool.cli.common.frontend import say
from pybpftool.cli.common.grammar import GlobalOptions, IprouteExit, matches
from pybpftool.cli.common.words import Words, invarg
from pybpftool.cli.tc.actparse import FILTER_NAMESZ, action_kind, parse_action
from pybpftool.cli.tc.filterprog import ParseFailed, ParseSession
from pybpftool.cscan import c_unsigned
from pybpftool.netlink.actions import (
    TCA_ACT_FLAG_LARGE_DUMP_ON,
    TCA_ACT_FLAG_TERSE_DUMP,
    ActionRef,
)
from pybpftool.netlink.uapi import (
    NLM_F_ACK,
    NLM_F_CREATE,
    NLM_F_DUMP,
    NLM_F_EXCL,
    NLM_F_REPLACE,
    NLM_F_REQUEST,
    NLM_F_ROOT,
    RTM_DELACTION,
    RTM_GETACTION,
)

if TYPE_CHECKING:
    from pybpftool.cli.common.context import RunContext


ACTIONS_USAGE = """\
usage: tc actions <ACTSPECOP>*
Where: \tACTSPECOP := ACR | GD | FL
\tACR := add | change | replace <ACTSPEC>*
\tGD := get | delete | <ACTISPEC>*
\tFL := ls | list | flush | <ACTNAMESPEC>
\tACTNAMESPEC :=  action <ACTNAME>
\tACTISPEC := <ACTNAMESPEC> <INDEXSPEC>
\tACTSPEC := action <ACTDETAIL> [INDEXSPEC] [HWSTATSSPEC] [SKIPSPEC]
\tINDEXSPEC := index <32 bit indexvalue>
\tHWSTATSSPEC := hw_stats [ immediate | delayed | disabled ]
\tSKIPSPEC := [ skip_sw | skip_hw ]
\tACTDETAIL := <ACTNAME> <ACTPARAMS>
\t\tExample ACTNAME is gact, mirred, bpf, etc
\t\tEach action has its own parameters (ACTPARAMS)

"""


# --- the commands ---


def actions_command(run: RunContext, args: list[str]) -> int:
    """actions_command: m_action.c do_action(): commands until the words run out."""
    opts = run.opts
    pos = 0
    while pos < len(args):
        verb = args[pos]
        if matches(verb, "add") or matches(verb, "change") or matches(verb, "replace"):
            flags = (
                NLM_F_EXCL | NLM_F_CREATE if matches(verb, "add") else NLM_F_CREATE | NLM_F_REPLACE
            )
            status, pos = _modify(run, args, pos, flags)
        elif matches(verb, "delete") or matches(verb, "get"):
            event = RTM_DELACTION if matches(verb, "delete") else RTM_GETACTION
            status, end = _get_delete(opts, args, pos + 2, event)
            pos = pos + 1 if end is None else end
        elif matches(verb, "list") or matches(verb, "show") or matches(verb, "lst"):
            return _list_or_flush(opts, args, pos, RTM_GETACTION)
        elif matches(verb, "flush"):
            return _list_or_flush(opts, args, pos, RTM_DELACTION)
        elif matches(verb, "help"):
            raise _act_usage()
        else:
            raise IprouteExit(f'Command "{verb}" is unknown, try "tc actions help".', 255)
        if status < 0:
            return 255
    return 0


def _act_usage() -> IprouteExit:
    """_act_usage: act_usage(): the usage (its last line is empty), exit(-1)."""
    return IprouteExit(ACTIONS_USAGE[:-1], 255, fatal=True)


def _netlink() -> Any:
    from pybpftool.netlink import Netlink

    return Netlink()


def _modify(run: RunContext, args: list[str], pos: int, flags: int) -> tuple[int, int]:
    """_modify: tc_action_modify(): parse the actions (loading bpf programs), send them."""
    from pybpftool.cli.common.failures import TALKING, load_failure_text, netlink_message
    from pybpftool.errors import NetlinkFailure, PyBpfError
    from pybpftool.netlink import ActionRequests

    av = Words(args, pos + 1)
    with _netlink() as nl:
        session = ParseSession(run, nl)
        try:
            try:
                actions = parse_action(av, session)
            except ParseFailed:
                say('Illegal "action"')
                session.discard()
                return -1, av.pos
            flags |= NLM_F_REQUEST | NLM_F_ACK
            session.commit(lambda: ActionRequests(nl).modify(flags, actions))
        except NetlinkFailure as err:
            session.discard()
            say(netlink_message(err), TALKING)
            return -1, av.pos
        except PyBpfError as err:
            if isinstance(err, IprouteExit):
                raise
            session.discard()
            say(*load_failure_text(err).split("\n"))  # the commit could not publish a pin
            return -1, av.pos
        except BaseException:
            session.discard()
            raise
    return 0, av.pos


def _get_delete(
    opts: GlobalOptions, args: list[str], pos: int, event: int
) -> tuple[int, int | None]:
    """_get_delete: tc_action_gd(): (status, where do_action goes on; None: tc returned
    without telling, so do_action reads again from the word after the verb)."""
    from pybpftool.cli.common.failures import TALKING, netlink_message
    from pybpftool.errors import NetlinkFailure
    from pybpftool.netlink import ActionRequests

    av = Words(args, pos)
    refs: list[ActionRef] = []
    while av.argc > 0:
        word = av.word()
        if word == "action":
            av.fwd()
            continue
        if word == "help":
            return -1, None
        kind = action_kind(word)
        av.fwd()
        if av.argc <= 0 or not matches(av.word(), "index"):
            say(f"Error: no index specified action: {kind}")
            return -1, None
        index = c_unsigned(av.next_arg(), 10)
        if index is None:
            say('Illegal "index"')
            return -1, None
        av.fwd()
        refs.append(ActionRef(kind, index))
    flags = NLM_F_REQUEST | (NLM_F_ACK if event == RTM_DELACTION else 0)
    with _netlink() as nl:
        try:
            found = ActionRequests(nl).by_index(event, flags, refs)
        except NetlinkFailure as err:
            say(netlink_message(err), TALKING)
            return 1, None
        if event == RTM_GETACTION:
            from pybpftool.cli.tc.actprint import print_action_messages

            text, status = print_action_messages(found[:1], opts, nl)
            if status < 0:
                say("Dump terminated")
                return 1, None
            sys.stdout.write(text)
    return 0, av.pos


def _list_or_flush(opts: GlobalOptions, args: list[str], pos: int, event: int) -> int:
    """_list_or_flush: tc_act_list_or_flush(): a dump (list) or a flush of one kind."""
    from pybpftool.cli.common.failures import netlink_message, rtnetlink_answers
    from pybpftool.errors import NetlinkFailure
    from pybpftool.netlink import ActionRequests

    if len(args) - pos <= 2:
        raise _act_usage()
    av = Words(args, pos + 2)
    kind = av.word()[: FILTER_NAMESZ - 1]
    av.fwd()
    since = 0
    if av.argc > 0 and av.cur == "since":
        text = av.next_arg()
        value = c_unsigned(text, 0)
        if value is None:
            raise invarg('dump time "since" is invalid', text)
        since = value
    dump_flags = TCA_ACT_FLAG_LARGE_DUMP_ON | (TCA_ACT_FLAG_TERSE_DUMP if opts.brief else 0)
    with _netlink() as nl:
        requests = ActionRequests(nl)
        if event == RTM_DELACTION:
            flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_ROOT
            try:
                requests.by_kind(event, flags, kind, dump_flags, since)
            except NetlinkFailure as err:
                say(netlink_message(err), "We have an error flushing")
                return 1
            return 0
        try:
            found = requests.by_kind(event, NLM_F_REQUEST | NLM_F_DUMP, kind, dump_flags, since)
        except NetlinkFailure as err:
            say(rtnetlink_answers(err.errno))  # perror(): no extack in dumps
            return 255
        from pybpftool.cli.tc.actprint import print_action_messages

        text, status = print_action_messages(found, opts, nl)
    sys.stdout.write(text)
    return 0 if status >= 0 else 255

"""complete: shell completion for pyip, pytc and pybpftool, driven by the parsers' own tables.

The shell scripts (`pybpftool completion bash|zsh`) call back `pybpftool __complete TOOL --
WORD...`; the last word is the one being completed. For pyip and pytc the candidates come
from the tables the parsers use: global options (ip/tc order) and the namespaces of
/run/netns after `-n`, objects, commands, the XDP, BPF and action keywords, the system's
interfaces after `dev`, and the section or function names of the object named after `obj`
once `section` or `program` is typed. For pybpftool they come from its click commands.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from pybpftool.cli.common.grammar import (
    IP_EXACT,
    IP_OPTIONS,
    TC_OPTIONS,
    IprouteExit,
    matches,
    resolve_object,
)
from pybpftool.cli.ip.link import XDP_MODES
from pybpftool.cli.tc.filter import FILTER_COMMANDS
from pybpftool.cli.tc.qdisc import QDISC_VERBS

if TYPE_CHECKING:
    import click

NETNS_DIR = "/run/netns"  # where `ip netns add` names namespaces
BPF_MODES = ("object-file", "obj", "object-pinned", "pinned", "fd")
CBPF_MODES = ("bytecode", "bytecode-file")
BPF_OPTS = ("section", "program", "verbose")
OBJECT_WORDS = ("obj", "object-file")  # the word before an ELF object's path
FILTER_BPF = ("direct-action", "da", "skip_hw", "skip_sw", "classid", "flowid", "action")
FILTER_SELECT = (
    "dev",
    "block",
    "ingress",
    "egress",
    "root",
    "parent",
    "handle",
    "pref",
    "protocol",
    "chain",
)
ACTION_KINDS = ("gact", "bpf", "mirred")
GACT_CONTROLS = ("pass", "ok", "drop", "shot", "reclassify", "continue", "pipe", "goto", "jump")
ACTION_WORDS = {
    "gact": (*GACT_CONTROLS, "random", "index"),
    "bpf": (*BPF_MODES, *CBPF_MODES, *BPF_OPTS, "index"),
    "mirred": ("egress", "ingress", "mirror", "redirect", "dev", "index"),
}
COMMANDS = {
    ("ip", "link"): ("set", "show"),
    ("ip", "vrf"): ("show", "identify", "pids", "exec", "help"),
    ("tc", "qdisc"): (*(verb for verb, _type, _flags in QDISC_VERBS), "show", "help"),
    ("tc", "filter"): FILTER_COMMANDS[:-1],
    ("tc", "chain"): ("add", "delete", "get", "show", "help"),
    ("tc", "actions"): ("add", "change", "replace", "get", "delete", "list", "flush", "help"),
    ("tc", "exec"): ("bpf",),
}
OBJECTS = {"ip": ("link", "vrf"), "tc": ("qdisc", "filter", "chain", "actions", "exec")}


def candidates(tool: str, words: list[str]) -> list[str]:
    """candidates: completions for the last of `words` (the command line after the tool)."""
    if tool == "bpftool":
        return bpftool_candidates(words)
    *done, current = words or [""]
    rest, wants_value = _skip_options(tool, done)
    if wants_value == "netns":
        return _prefixed(current, _namespaces())
    if wants_value is not None:
        return []  # a file (-batch, -conf) or a number: the shell's default
    if rest is None:
        return []
    if not rest and current.startswith("-"):
        table = IP_OPTIONS if tool == "ip" else TC_OPTIONS
        return _prefixed(current, [kw for kw, _attr, _takes in table])
    return _prefixed(current, _next_words(tool, rest))


def _skip_options(tool: str, done: list[str]) -> tuple[list[str] | None, str | None]:
    """_skip_options: the words after the global options (None: an unknown option), and
    the attribute of an option still waiting for its value (`-n` waits for "netns")."""
    table = IP_OPTIONS if tool == "ip" else TC_OPTIONS
    pos = 0
    while pos < len(done) and done[pos].startswith("-"):
        word = done[pos][1:] if tool == "ip" and done[pos].startswith("--") else done[pos]
        pos += 1
        if tool == "ip" and word in IP_EXACT:
            continue
        hit = next(((a, t) for kw, a, t in table if matches(word.split("=")[0], kw)), None)
        if hit is None:
            return None, None
        attr, takes = hit
        if takes:
            if pos == len(done):
                return [], attr
            pos += 1
    return done[pos:], None


def _next_words(tool: str, rest: list[str]) -> list[str]:
    if not rest:
        return list(OBJECTS[tool])
    try:
        obj = resolve_object(tool, rest[0])
    except IprouteExit:
        return []
    if obj not in OBJECTS[tool]:
        return []
    if len(rest) == 1:
        return list(COMMANDS[(tool, obj)])
    previous = rest[-1]
    if previous == "dev":
        return _interfaces()
    if previous in (*OBJECT_WORDS, "pinned", "object-pinned", "fd", "bytecode-file"):
        return []  # a path: the shell completes files
    if previous == "action":
        return list(ACTION_KINDS)
    named = _object_names(rest)
    if named is not None:
        return named
    return _keywords(obj, rest)


def _keywords(obj: str, rest: list[str]) -> list[str]:
    """_keywords: what may come next in a command of `obj`, from the words so far."""
    kind = _last_action_kind(rest)
    if kind is not None:
        return list(ACTION_WORDS[kind])
    if obj == "link":
        if rest[-1] in XDP_MODES:
            return ["off", "none", *BPF_MODES]
        if any(w in XDP_MODES for w in rest):
            return list(BPF_OPTS)
        return ["dev", *XDP_MODES, *_interfaces()]
    if obj == "vrf":
        return []  # VRF names, PIDs, commands: this kernel may have no VRF at all
    if obj == "qdisc":
        return ["dev", "root", "ingress", "clsact", "parent", "handle", "htb", "pfifo", "bfifo"]
    if obj == "actions":
        return ["action"]
    if obj in ("filter", "chain"):
        if "bpf" in rest:
            return [*BPF_MODES, *CBPF_MODES, *BPF_OPTS, *FILTER_BPF]
        return [*FILTER_SELECT, "bpf"]
    return ["graft", "dbg", "key", *BPF_MODES, "type", *BPF_OPTS]


def _last_action_kind(rest: list[str]) -> str | None:
    """_last_action_kind: the kind of the last `action KIND` in `rest`, if one is open."""
    for pos in range(len(rest) - 2, -1, -1):
        if rest[pos] == "action":
            kind = rest[pos + 1]
            return next((k for k in ACTION_KINDS if matches(kind, k)), None)
    return None


def _object_names(rest: list[str]) -> list[str] | None:
    """_object_names: after `section` (or a prefix such as `sec`) the program sections of
    the object named after `obj`, after `program` its function names; None elsewhere."""
    previous = rest[-1]
    want_section = matches(previous, "section") and len(previous) >= 3
    if not (want_section or previous == "program"):
        return None
    path = next(
        (rest[i + 1] for i in range(len(rest) - 2, -1, -1) if rest[i] in OBJECT_WORDS), None
    )
    if path is None:
        return []
    from pybpftool.errors import ObjectError
    from pybpftool.parser import parse_object

    try:
        spec = parse_object(os.path.expanduser(path))
    except (ObjectError, OSError):
        return []
    names = [p.section if want_section else p.name for p in spec.programs]
    return [n for n in names if n.isprintable() and not any(c.isspace() for c in n)]


def bpftool_candidates(words: list[str]) -> list[str]:
    """bpftool_candidates: completions for a pybpftool command line, from its click commands:
    subcommands, options, choices, and program types after --type."""
    import click

    from pybpftool.cli.bpftool.main import cli

    *done, current = words or [""]
    command: click.Command = cli
    waiting: click.Option | None = None  # an option whose value comes next
    for word in done:
        if waiting is not None:
            waiting = None
        elif word.startswith("-"):
            option = _click_option(command, word)
            if option is not None and not option.is_flag:
                waiting = option
        elif isinstance(command, click.Group):
            sub = command.get_command(click.Context(command), word)
            if sub is None:
                return []
            command = sub
    if waiting is not None:
        return _prefixed(current, _option_values(waiting))
    if current.startswith("-"):
        options = [o for p in command.params if isinstance(p, click.Option) for o in p.opts]
        return _prefixed(current, [*options, "--help"])
    if isinstance(command, click.Group):
        return _prefixed(
            current, [name for name, sub in command.commands.items() if not sub.hidden]
        )
    choices = [
        str(choice)
        for p in command.params
        if isinstance(p, click.Argument) and isinstance(p.type, click.Choice)
        for choice in p.type.choices
    ]
    return _prefixed(current, choices)  # nothing: a FILE, which the shell completes


def _click_option(command: object, word: str) -> click.Option | None:
    import click

    params = getattr(command, "params", [])
    return next((p for p in params if isinstance(p, click.Option) and word in p.opts), None)


def _option_values(option: click.Option) -> list[str]:
    import click

    if option.name == "type_names":
        from pybpftool.uapi import BpfProgType, prog_type_name

        return [prog_type_name(t) for t in BpfProgType if t]
    if isinstance(option.type, click.Choice):
        return [str(choice) for choice in option.type.choices]
    return []  # a FILE


def _namespaces() -> list[str]:
    try:
        return sorted(os.listdir(NETNS_DIR))
    except OSError:
        return []


def _interfaces() -> list[str]:
    try:
        return sorted(os.listdir("/sys/class/net"))
    except OSError:
        return []


def _prefixed(current: str, words: list[str]) -> list[str]:
    return [w for w in dict.fromkeys(words) if w.startswith(current)]


BASH = """\
# bash completion for pyip, pytc and pybpftool: eval "$(pybpftool completion bash)"
_pybpftool_complete() {
    local tool=${COMP_WORDS[0]##*/}; tool=${tool#py}
    local IFS=$'\\n'
    COMPREPLY=($(pybpftool __complete "$tool" -- "${COMP_WORDS[@]:1:COMP_CWORD}"))
    [ ${#COMPREPLY[@]} -eq 0 ] && COMPREPLY=($(compgen -f -- "${COMP_WORDS[COMP_CWORD]}"))
}
complete -F _pybpftool_complete pyip pytc pybpftool
"""

ZSH = """\
#compdef pyip pytc pybpftool
# zsh completion for pyip, pytc and pybpftool: eval "$(pybpftool completion zsh)"
_pybpftool() {
    local tool=${words[1]:t}; tool=${tool#py}
    local -a found
    found=("${(@f)$(pybpftool __complete $tool -- "${(@)words[2,CURRENT]}")}")
    if (( ${#found} )) && [[ -n ${found[1]} ]]; then compadd -a found; else _files; fi
}
compdef _pybpftool pyip pytc pybpftool
"""

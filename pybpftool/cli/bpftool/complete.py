"""complete: shell completion for pyip and pytc, driven by the same grammar tables.

The shell scripts (`pybpftool completion bash|zsh`) call back `pybpftool __complete TOOL
WORD...`; the last word is the one being completed. The candidates come from the tables the
parsers use: global options (ip/tc order), objects, commands, the XDP and BPF keywords, and
the system's interfaces after `dev`.
"""

from __future__ import annotations

import os

from pybpftool.cli.common.grammar import (
    IP_OPTIONS,
    TC_OPTIONS,
    matches,
    parse_global_options,
)
from pybpftool.cli.ip.link import XDP_MODES
from pybpftool.cli.tc.filter import FILTER_COMMANDS

BPF_MODES = ("object-file", "obj", "object-pinned", "pinned", "fd")
BPF_OPTS = ("section", "program", "verbose")
FILTER_BPF = ("direct-action", "da", "skip_hw", "skip_sw", "classid", "flowid", "run")
FILTER_SELECT = ("dev", "ingress", "egress", "root", "parent", "handle", "pref", "protocol")
COMMANDS = {
    ("ip", "link"): ("set", "show"),
    ("tc", "qdisc"): ("add", "del", "replace"),
    ("tc", "filter"): FILTER_COMMANDS[:-1],
    ("tc", "exec"): ("bpf",),
}
OBJECTS = {"ip": ("link",), "tc": ("qdisc", "filter", "exec")}


def candidates(tool: str, words: list[str]) -> list[str]:
    """candidates: completions for the last of `words` (the command line after the tool)."""
    *done, current = words or [""]
    if current.startswith("-") and all(w.startswith("-") for w in done):
        table = IP_OPTIONS if tool == "ip" else TC_OPTIONS
        return _prefixed(current, [kw for kw, _attr, _takes in table])
    try:
        _opts, rest = parse_global_options(tool, done)
    except Exception:
        return []
    return _prefixed(current, _next_words(tool, rest))


def _next_words(tool: str, rest: list[str]) -> list[str]:
    if not rest:
        return list(OBJECTS[tool])
    obj = next((o for o in OBJECTS[tool] if matches(rest[0], o)), None)
    if obj is None:
        return []
    if len(rest) == 1:
        return list(COMMANDS[(tool, obj)])
    previous = rest[-1]
    if previous == "dev":
        return _interfaces()
    if previous in ("obj", "object-file", "pinned", "object-pinned", "fd"):
        return []  # a path: the shell completes files
    if obj == "link":
        if previous in XDP_MODES:
            return ["off", "none", *BPF_MODES]
        if any(w in XDP_MODES for w in rest):
            return list(BPF_OPTS)
        return ["dev", *XDP_MODES, *_interfaces()]
    if obj == "qdisc":
        return ["dev", "clsact", "ingress"]
    if obj == "filter":
        if "bpf" in rest:
            return [*BPF_MODES, *BPF_OPTS, *FILTER_BPF]
        return [*FILTER_SELECT, "bpf"]
    return ["graft", "dbg", "key", *BPF_MODES, "type", *BPF_OPTS]


def _interfaces() -> list[str]:
    try:
        return sorted(os.listdir("/sys/class/net"))
    except OSError:
        return []


def _prefixed(current: str, words: list[str]) -> list[str]:
    return [w for w in dict.fromkeys(words) if w.startswith(current)]


BASH = """\
# bash completion for pyip and pytc (pybpftool): eval "$(pybpftool completion bash)"
_pybpftool_complete() {
    local tool=${COMP_WORDS[0]##*/}; tool=${tool#py}
    local IFS=$'\\n'
    COMPREPLY=($(pybpftool __complete "$tool" "${COMP_WORDS[@]:1:COMP_CWORD}"))
    [ ${#COMPREPLY[@]} -eq 0 ] && COMPREPLY=($(compgen -f -- "${COMP_WORDS[COMP_CWORD]}"))
}
complete -F _pybpftool_complete pyip pytc
"""

ZSH = """\
#compdef pyip pytc
# zsh completion for pyip and pytc (pybpftool): eval "$(pybpftool completion zsh)"
_pybpftool() {
    local tool=${words[1]:t}; tool=${tool#py}
    local -a found
    found=("${(@f)$(pybpftool __complete $tool ${words[2,CURRENT]})}")
    if (( ${#found} )) && [[ -n ${found[1]} ]]; then compadd -a found; else _files; fi
}
compdef _pybpftool pyip pytc
"""

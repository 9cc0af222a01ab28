"""bpfsource: iproute2's BPF sub-grammar (lib/bpf_legacy.c bpf_parse), strictly ordered.

    MODE := bytecode|bc STR | bytecode-file|bcf FILE
          | object-file|obj FILE OPTS | object-pinned|pinned|fd PATH OPTS
    OPTS := [type TYPE] [section NAME] [program NAME] [export UDS] [verbose]

`type` only when the caller has no type of its own (tc exec bpf graft). Options out of this
order are left to the caller's parser, exactly as iproute2 does.
"""

# Annotations are evaluated here (no `from __future__ import annotations`): a NamedTuple
# field given as a string costs typing a compile() when the class is made.

import os
from typing import NamedTuple

from pybpftool.cli.common.grammar import IprouteExit, matches
from pybpftool.cli.common.words import Words

# `type` words in iproute2's order (bpf_parse: cls, act, xdp, lwt_in, lwt_out, lwt_xmit, ...).
TYPE_WORDS = ("cls", "act", "xdp", "lwt_in", "lwt_out", "lwt_xmit", "lwt_seg6local")
DEFAULT_SECTION = {"cls": "classifier", "act": "action", "xdp": "prog", "lwt": "prog"}


class BpfSource(NamedTuple):
    """BpfSource: where the program comes from and the options given with it."""

    mode: str  # "obj", "pinned", "bytecode", "bytecode-file"
    path: str  # object file, pinned path (as typed, m: included), or the bytecode text
    section: str | None = None
    program: str | None = None
    export: str | None = None
    verbose: bool = False
    type_word: str | None = None


def parse_mode(
    words: Words, allow_bytecode: bool, allow_type: bool, allow_export: bool = True
) -> BpfSource:
    """parse_mode: MODE and its OPTS from `words` (left positioned after them)."""
    word = words.take()
    if matches(word, "bytecode") or word == "bc":
        mode = "bytecode"
    elif matches(word, "bytecode-file") or word == "bcf":
        mode = "bytecode-file"
    elif matches(word, "object-file"):
        mode = "obj"
    elif matches(word, "object-pinned") or matches(word, "pinned") or matches(word, "fd"):
        mode = "pinned"
    else:
        raise IprouteExit(f'What mode is "{word}"?', 255)
    if mode.startswith("bytecode") and not allow_bytecode:
        raise IprouteExit(f'What mode is "{word}"?', 255)
    path = words.take()
    if mode.startswith("bytecode"):
        return BpfSource(mode, path)
    type_word = None
    if allow_type and words.at("type"):
        words.take()
        type_word = _type_word(words.take())
    section = program = export = None
    if words.at("section"):
        words.take()
        section = words.take()
    if words.at("program", exact=True):
        words.take()
        program = words.take()
    # bpf_parse takes `export` only for program types that can hand their maps over (cls and
    # act: tc's default) and only when $TC_BPF_UDS does not already name the socket.
    exportable = type_word in (None, "cls", "act") if allow_type else allow_export
    if exportable and not os.environ.get("TC_BPF_UDS") and words.at("export"):
        words.take()
        export = words.take()
    verbose = False
    if words.at("verbose"):
        words.take()
        verbose = True
    return BpfSource(mode, path, section, program, export, verbose, type_word)


def _type_word(word: str) -> str:
    for name in TYPE_WORDS:
        if matches(word, name):
            return name
    raise IprouteExit(f'What type is "{word}"?', 255)

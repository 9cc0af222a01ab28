"""exec_bpf: `pytc exec bpf {import|graft|dbg}` (tc/e_bpf.c), exit codes as tc's raw negative errno.

    tc exec bpf import UDS [run CMD ARGS...]
    tc exec bpf graft MAPPATH [key KEY] {obj FILE [type TYPE] [section S] ... | pinned PATH}
    tc exec bpf {debug|dbg}

graft loads the program (type `cls` unless `type` says otherwise), infers the key from an
`ID/KEY` section name when none is given, then, as the attach of the load's commit (the
object's own new pins appear with it), opens the pinned program array, checks it is one
(type, key size, value size, as iproute2 does) and stores the program in the slot.
"""

from __future__ import annotations

import errno as _errno
import os
import shutil
import sys

from pybpftool.cli.common.bpfsource import BpfSource, parse_mode
from pybpftool.cli.common.failures import load_failure_text
from pybpftool.cli.common.grammar import IprouteExit, matches
from pybpftool.cli.common.usage import EXEC_BPF_USAGE as USAGE
from pybpftool.cli.common.words import Words, incomplete
from pybpftool.errors import KernelError, ObjectError, PyBpfError, VerifierError
from pybpftool.uapi import BpfMapType
from pybpftool.uapi import BpfProgType as P

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up)
if TYPE_CHECKING:
    from pybpftool.cli.common.context import RunContext

# `type` word -> (program type, default section, pin subdir)
TYPES = {
    "cls": (P.BPF_PROG_TYPE_SCHED_CLS, "classifier", "tc"),
    "act": (P.BPF_PROG_TYPE_SCHED_ACT, "action", "tc"),
    "xdp": (P.BPF_PROG_TYPE_XDP, "prog", "xdp"),
    "lwt_in": (P.BPF_PROG_TYPE_LWT_IN, "prog", "ip"),
    "lwt_out": (P.BPF_PROG_TYPE_LWT_OUT, "prog", "ip"),
    "lwt_xmit": (P.BPF_PROG_TYPE_LWT_XMIT, "prog", "ip"),
    "lwt_seg6local": (P.BPF_PROG_TYPE_LWT_SEG6LOCAL, "prog", "ip"),
}
TRACEFS = ("/sys/kernel/tracing", "/sys/kernel/debug/tracing", "/tracing", "/trace")


def exec_command(run: RunContext, args: list[str]) -> int:
    """exec_command: `pytc exec KIND ...`; only the bpf kind exists."""
    if not args:
        raise IprouteExit('No command given, try "tc exec help".', 255)
    kind, rest = args[0], args[1:]
    if kind != "bpf":
        if not rest:
            return 0
        raise IprouteExit(f'Unknown exec "{kind}", hence option "{rest[0]}" is unparsable', 255)
    return parse_bpf(run, Words(rest))


def parse_bpf(run: RunContext, words: Words) -> int:
    """parse_bpf: e_bpf.c parse_bpf(): `import UDS` (the last one counts) until `run CMD...`,
    `debug` or `graft ...`; anything else is the usage. NEXT_ARG's incomplete-command error
    for a missing word, as tc: `run`, `import` or `graft MAP` with nothing after."""
    if not words:
        return 0
    uds: str | None = None
    command = ["/bin/sh"]
    while words:
        word = words.take()
        if matches(word, "run"):
            if not words:
                raise incomplete()  # NEXT_ARG: CMD is required
            command = words.words[words.pos :]
            break
        if matches(word, "import"):
            uds = words.take()
        elif matches(word, "debug") or matches(word, "dbg"):
            return trace_pipe()
        elif matches(word, "graft"):
            return graft(run, words)
        else:
            raise IprouteExit(USAGE, 255)
    if uds is None:
        raise IprouteExit(f"bpf: No import parameter provided!\n{USAGE}", 255)
    return import_maps(uds, command)


def import_maps(path: str, command: list[str]) -> int:
    """import_maps: receive an exporter's maps on UDS `path`, then exec `command` with them."""
    import socket

    from pybpftool.uds import import_environment, receive_maps

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        sock.bind(path)
    except OSError as err:
        sock.close()
        raise IprouteExit(
            f"Cannot bind to socket: {err.strerror}\nbpf: Could not receive fds!", 255
        ) from None
    try:
        received = receive_maps(sock)
    except OSError as err:
        raise IprouteExit(f"bpf: Could not receive fds! ({err.strerror})", 255) from None
    finally:
        sock.close()
        os.unlink(path)
    for _entry, fd in received.maps:
        os.set_inheritable(fd, True)
    env = {**os.environ, **import_environment(received)} if received.maps else dict(os.environ)
    sys.stdout.flush()
    try:
        os.execvpe(command[0], command, env)
    except OSError as err:
        raise IprouteExit(f'exec of "{command[0]}" failed: {err.strerror}', 255) from None
    return 0  # not reached: execvpe replaced the process


def graft(run: RunContext, words: Words) -> int:
    map_path = words.take()
    key: int | None = None
    if words.at("key"):
        words.take()
        key = _unsigned(words.take())
    source = parse_mode(words, allow_bytecode=False, allow_type=True)
    prog_type, section, subdir = TYPES[source.type_word or "cls"]
    prepared = _load(run, source, prog_type, section, subdir)
    try:
        slot = key if key is not None else _key_from_section(source.section or section)

        def store() -> None:
            _store(map_path, subdir, slot, prepared.fd, prog_type)

        if prepared.loaded is None:
            store()
        else:
            _commit(prepared.loaded, store)  # the object's own pins appear with the graft
    except BaseException:
        prepared.discard()
        raise
    prepared.close()
    return 0


def _commit(loaded, store) -> None:  # type: ignore[no-untyped-def]
    try:
        loaded.commit(store)
    except IprouteExit:
        raise
    except PyBpfError as err:
        raise IprouteExit(load_failure_text(err), 255) from None


def _unsigned(text: str) -> int:
    from pybpftool.cscan import c_unsigned

    value = c_unsigned(text, 0)  # get_unsigned(&key, *argv, 0)
    if value is None:
        raise IprouteExit('Illegal "key"', 255)
    return value


def _load(run: RunContext, source: BpfSource, prog_type: int, section: str, subdir: str):  # type: ignore[no-untyped-def]
    from pybpftool.cli.common.attach import prepare

    try:
        return prepare(run, source, prog_type, section, subdir)
    except VerifierError as err:
        raise IprouteExit(load_failure_text(err), 256 - err.errno) from None
    except ObjectError as err:
        # libbpf says -ENOENT for a missing section or program (tc prints 254); a file that
        # does not open is open()'s -1 (255); any other ELF trouble is -EINVAL (234).
        missing = "doesn't contain" in err.message
        status = 254 if missing else 255 if _unopenable(source) else 234
        raise IprouteExit(load_failure_text(err), status) from None
    except PyBpfError as err:
        raise IprouteExit(load_failure_text(err), 255) from None


def _unopenable(source: BpfSource) -> bool:
    """_unopenable: the object file does not open for reading (bpf_elf_ctx_init's open())."""
    if source.mode != "obj":
        return False
    try:
        os.close(os.open(source.path, os.O_RDONLY))
    except OSError:
        return True
    return False


def _key_from_section(section: str) -> int:
    from pybpftool.tailcalls import parse_tail_call_section

    parsed = parse_tail_call_section(section)
    if parsed is None:
        raise IprouteExit(
            "Couldn't infer map key from section name! Please provide 'key' argument!",
            256 - _errno.EINVAL,
        )
    return parsed[1]


def _store(map_path: str, subdir: str, key: int, prog, prog_type: int) -> None:  # type: ignore[no-untyped-def]
    from pybpftool.cli.common.attach import expand_pin_path
    from pybpftool.kernel.bpf import Kernel

    kernel = Kernel()
    try:
        array = kernel.obj_get(expand_pin_path(map_path, subdir))
    except KernelError as err:
        raise IprouteExit(
            f"Couldn't retrieve pinned map '{map_path}': {os.strerror(err.errno)}", 255
        ) from None
    with array:
        info = kernel.map_info(array)
        # bpf_graft_map() checks the fields before max_elem (a prog array of 4-byte keys
        # and values) but reports every field that differs from its zeroed remainder
        wanted = (
            ("Type", int(BpfMapType.BPF_MAP_TYPE_PROG_ARRAY), info.type),
            ("Size key", 4, info.key_size),
            ("Size value", 4, info.value_size),
        )
        reported = (*wanted, ("Max elems", 0, info.max_entries), ("Flags", 0, info.map_flags))
        if any(ours != theirs for _, ours, theirs in wanted):
            lines = [
                f" - {name + ':':<14}{_c_number(name, ours)} (obj) != "
                f"{_c_number(name, theirs)} (pin)"
                for name, ours, theirs in reported
                if ours != theirs
            ]
            report = ["Map specification differs from pinned file!", *lines, ""]
            raise IprouteExit(
                "\n".join([*report, f"Map '{map_path}' self-check failed!"]),
                256 - _errno.EINVAL,
            )
        owner = kernel.fdinfo(array).get("owner_prog_type")
        if owner is not None and int(owner) != prog_type:
            sys.stderr.write(
                f"Program array map owner types differ: {prog_type} (obj) != {owner} (pin)\n"
            )
        try:
            kernel.map_update(
                array, key.to_bytes(4, sys.byteorder), int(prog).to_bytes(4, sys.byteorder)
            )
        except KernelError as err:
            raise IprouteExit(f"Map update failed: {os.strerror(err.errno)}", 255) from None


def _c_number(field: str, value: int) -> str:
    """_c_number: bpf_map_pin_report()'s flags are %#x (0 is "0"), the rest %u."""
    return f"{value:#x}" if field == "Flags" and value else str(value)


def trace_pipe() -> int:
    """trace_pipe: copy the kernel's trace pipe to stderr until interrupted (tc exec bpf dbg)."""
    root = next((p for p in TRACEFS if os.path.exists(f"{p}/trace_pipe")), None)
    if root is None:
        raise IprouteExit("tracefs not mounted?\nNo trace pipe, tracefs not mounted?", 255)
    sys.stderr.write("Running! Hang up with ^C!\n\n")
    sys.stderr.flush()
    try:
        with open(f"{root}/trace_pipe", "rb") as pipe:
            shutil.copyfileobj(pipe, sys.stderr.buffer, 1)
    except KeyboardInterrupt:
        return 0
    return 0

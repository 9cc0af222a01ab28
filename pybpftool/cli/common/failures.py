"""failures: iproute2's texts for failures several commands report the same way: a failed
load (ending in iproute2's own line), a netlink refusal (`Error: <extack>.` or `RTNETLINK
answers: ...`, and tc's line after it), a device name that names no device, and the
sandbox's explanation of a refused access. The one module that holds them."""

from __future__ import annotations

from pybpftool.errors import ElfContextError, NetlinkFailure, PyBpfError, VerifierError

TALKING = "We have an error talking to the kernel"  # tc, after a request the kernel refused


def no_device(dev: str) -> str:
    """no_device: ip's and tc's line for a device name no interface has."""
    return f'Cannot find device "{dev}"'


def rtnetlink_answers(errno: int) -> str:
    """rtnetlink_answers: perror("RTNETLINK answers") of `errno` (no extack: dumps)."""
    import os

    return f"RTNETLINK answers: {os.strerror(errno)}"


def load_failure_text(err: PyBpfError) -> str:
    """load_failure_text: the report of a failed load, ending in iproute2's own line.

    Callers split it on newlines again (into IprouteExit messages, tc's say()), so each line
    is made terminal-safe first: a newline inside a map or section name stays `\\x0a` and
    cannot forge a line of its own.
    """
    from pybpftool.cli.common.escape import terminal_safe

    if isinstance(err, ElfContextError):
        # iproute2 6.1 says only this for a missing, unreadable or non-ELF file; it names
        # the ELF format problems it checks itself.
        first = [err.message] if err.message.startswith("ELF format error") else []
        lines = [*first, "Cannot initialize ELF context!"]
    else:
        lines = [*err.details, err.message]
    return "\n".join(terminal_safe(line) for line in [*lines, *sandbox_lines(err)])


def sandbox_lines(err: PyBpfError) -> list[str]:
    """sandbox_lines: when a refused access (not the verifier's EACCES) may be the sandbox's,
    what it blocked, from the kernel's audit records when available."""
    if isinstance(err, VerifierError) or "Permission denied" not in str(err):
        return []
    from pybpftool.sandbox.explain import explain_denial

    return explain_denial(err)


def netlink_message(err: NetlinkFailure) -> str:
    """netlink_message: `Error: <extack>.` when the kernel said why, else RTNETLINK's line."""
    if err.extack:
        text = err.extack if err.extack.endswith(".") else err.extack + "."
        return f"Error: {text}"
    return f"RTNETLINK answers: {err.message}"

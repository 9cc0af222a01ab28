"""explain: the lines that follow an error which said `Permission denied` under the sandbox.

They say that the sandbox refused the access only when that is known to be true:
- the kernel's audit records show our own Landlock domain denying an access the error is
  about (its tagged FsAccess, else a path the error's text names): the blocker and the path,
  at most MAX_SHOWN lines;
- otherwise, when the error names the access it was refused and the policy this process was
  confined with does not allow it (audit off, not readable, its records lost in a flood, or
  not arrived yet): one line saying so.
A refusal by the kernel itself (file modes, another LSM, an outer Landlock domain) gets none.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from pybpftool.errors import FsAccess
from pybpftool.kernel import landlock as ll
from pybpftool.sandbox import CACHE, ENV, OUTPUT_DIR, PIN_ROOT, READ, STATE, Policy

if TYPE_CHECKING:
    from pybpftool.sandbox.audit import Denial

MAX_SHOWN = 5  # denial lines; more are counted in one line
IN_FOLDER = ("make_reg", "make_dir", "remove_file", "remove_dir")  # rights on the folder
WORDS = {
    "read_file": "reading",
    "read_dir": "opening the folder",
    "write_file": "writing",
    "truncate": "truncating",
    "make_reg": "creating",
    "make_dir": "creating the folder",
    "remove_file": "removing",
    "remove_dir": "removing the folder",
}


def refused_access(err: BaseException) -> FsAccess | None:
    """refused_access: the FsAccess `err` or an exception it was raised from names."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        access = getattr(current, "access", None)
        if isinstance(access, FsAccess):
            return access
        current = current.__cause__ or current.__context__
    return None


def policy_denies(policy: Policy, access: FsAccess) -> bool | None:
    """policy_denies: True when `policy` refuses `access`, False when it allows it, None for a
    right it does not name. Landlock decides on the resolved path, so does this; a creation or
    removal is a right on the folder that holds the entry."""
    bit = ll.FS.get(access.right)
    if bit is None:
        return None
    target = os.path.realpath(access.path)
    where = os.path.dirname(target) if access.right in IN_FOLDER else target
    return not any(
        rights & bit and _beneath(where, os.path.realpath(path))
        for path, rights, _what in rules(policy)
    )


def rules(policy: Policy) -> list[tuple[str, int, str]]:
    """rules: (path, rights, what it is) of each rule `policy` adds (sandbox.confine)."""
    out = [(path, READ, "an input") for path in (*policy.read, *policy.extra_read)]
    for path, rights, what in (
        (policy.pin_root, PIN_ROOT, "the pin root"),
        (policy.cache, CACHE, "the CO-RE index cache"),
        (policy.output_dir, OUTPUT_DIR, "the output folder"),
    ):
        if path is not None:
            out.append((path, rights, what))
    return out


def explain_denial(err: BaseException, wait: float = 0.3) -> list[str]:
    """explain_denial: the sandbox's lines for `err` (see the module's rules), or none."""
    if not STATE.enforced:
        return []
    access = refused_access(err)
    ours, dropped = _own_denials(wait)
    mine = [d for d in ours if _concerns(d.path, access, err)]
    if mine:
        return _denial_lines(mine, dropped)
    if access is not None and STATE.policy is not None and policy_denies(STATE.policy, access):
        return [_policy_line(access, STATE.policy)]
    return []


def _own_denials(wait: float) -> tuple[list[Denial], int]:
    """_own_denials: our domain's denials not explained before, and how many more there were
    (none without audit)."""
    from pybpftool.sandbox.audit import AuditReader, OwnDenials, audit_enabled

    reader = STATE.reader
    if not isinstance(reader, AuditReader) or not audit_enabled():
        return [], 0
    if not isinstance(STATE.own, OwnDenials):
        STATE.own = OwnDenials(os.getpid())
    STATE.own.add(reader.records(wait))
    return STATE.own.take()


def _concerns(path: str | None, access: FsAccess | None, err: BaseException) -> bool:
    """_concerns: a denial on `path` is about this failure: on the path of the access it was
    refused or a folder above it (a creation is denied on its folder); for an error that
    names no access, on a path its text names."""
    if path is None:
        return False
    if access is not None:
        return any(_beneath(p, path) for p in (access.path, os.path.realpath(access.path)))
    text = "\n".join([*getattr(err, "details", ()), str(err)])
    return path in text


def _denial_lines(denials: list[Denial], dropped: int) -> list[str]:
    lines = []
    for d in denials[:MAX_SHOWN]:
        where = f" on {d.path}" if d.path else ""
        blockers = ",".join(d.blockers)
        lines.append(f"sandbox: Landlock denied {blockers}{where} (our domain {d.domain})")
    more = len(denials) - MAX_SHOWN + dropped
    if more > 0:
        lines.append(f"sandbox: {more} more denials of our domain not shown")
    return lines


def _policy_line(access: FsAccess, policy: Policy) -> str:
    bit = ll.FS[access.right]
    places = [f"{what} {path}" for path, rights, what in rules(policy) if rights & bit]
    places = [place for place in places if not place.startswith("an input")]
    beneath = f"beneath {' or '.join(places)}" if places else ""
    if access.right in IN_FOLDER:
        allowed = f"it may do that only {beneath}" if beneath else "it may do that nowhere"
    else:
        allowed = "it may read only the files the command names, its own library folders"
        allowed += f" and {beneath}" if beneath else ""
    word = WORDS.get(access.right, access.right)
    return (
        f"sandbox: Landlock does not allow {word} {access.path} ({allowed}); "
        f"with audit on (auditctl -e 1) the kernel's record is shown, {ENV}=off runs unconfined"
    )


def _beneath(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")

"""sandbox: pybpftool confines itself with Landlock before it reads an untrusted object.

The policy for a command (see `command_policy`):
- read, beneath each of: the files the command names, the fixed inputs (/etc/iproute2,
  /sys/kernel/btf, /proc/self) and the interpreter's own library folders (imports are lazy);
- create, read and remove files and folders beneath the pin root, nothing else there;
- create, write, read and remove files in the CO-RE index cache (a root-only folder), and
  read the CO-RE target BTF named by $PYBPFTOOL_TARGET_BTF;
- for a command that writes a file (`pybpftool object convert -o OUT`): create and remove
  files in OUT's folder, so that the output, written through a descriptor opened before
  confinement, can be renamed into place or removed; nothing is written by path;
- everything else the filesystem offers is refused: writing or truncating files, device
  ioctls, creating anything outside the pin root; no TCP; no signals or abstract sockets
  outside the sandbox.
Whatever needs more (mounting bpffs, the pin hierarchy, entering a netns) happens before.

`PYBPFTOOL_SANDBOX`: `auto` (default, confine when the kernel has Landlock), `on` (refuse to
run without it), `off`.
"""

# Annotations are evaluated here (no `from __future__ import annotations`): a NamedTuple
# field given as a string costs typing a compile() when the class is made.

import os
import sys
from typing import NamedTuple

from pybpftool.errors import SandboxError
from pybpftool.kernel import landlock as ll

ENV = "PYBPFTOOL_SANDBOX"
FIXED_INPUTS = ("/etc/iproute2", "/sys/kernel/btf", "/sys/kernel/notes", "/proc/self")
# Shared libraries that extension modules load lazily (ssl for asyncio under pyroute2, ...).
SYSTEM_LIBRARIES = (
    "/lib",
    "/lib64",
    "/usr/lib",
    "/usr/lib64",
    "/usr/local/lib",
    "/etc/ld.so.cache",
)
READ = ll.FS["read_file"] | ll.FS["read_dir"]
PIN_ROOT = READ | ll.FS["make_reg"] | ll.FS["make_dir"] | ll.FS["remove_file"] | ll.FS["remove_dir"]
CACHE = READ | ll.FS["make_reg"] | ll.FS["write_file"] | ll.FS["remove_file"]
OUTPUT_DIR = ll.FS["make_reg"] | ll.FS["remove_file"]


class Policy(NamedTuple):
    """Policy: what the confined process may still do on the filesystem."""

    read: tuple[str, ...]
    pin_root: str | None = None
    extra_read: tuple[str, ...] = ()
    cache: str | None = None  # the CO-RE index cache folder
    output_dir: str | None = None  # where a command renames its output file into place


class State:
    """State: whether (and how) this process is confined, and its audit reader if any.

    A plain class, not a dataclass: every cold attach imports this module, and dataclasses
    would bring inspect and ast with it."""

    __slots__ = ("abi", "enforced", "own", "policy", "reader")

    def __init__(self) -> None:
        self.abi = 0
        self.enforced = False
        self.policy: Policy | None = None
        self.reader: object = None  # audit.AuditReader, opened before confinement if allowed
        self.own: object = None  # audit.OwnDenials: our domain's records read so far


STATE = State()


def mode() -> str:
    value = os.environ.get(ENV, "auto").lower()
    if value not in ("auto", "on", "off"):
        raise SandboxError(f"{ENV}={value}: expected auto, on or off")
    return value


def library_folders() -> tuple[str, ...]:
    """library_folders: where the interpreter may still import modules from."""
    import pybpftool

    folders = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    folders.update(p for p in sys.path if p)
    folders.add(os.path.dirname(os.path.abspath(pybpftool.__file__)))  # editable installs
    if sys.pycache_prefix:  # PYTHONPYCACHEPREFIX: without it, later imports recompile
        folders.add(sys.pycache_prefix)
    folders.update(SYSTEM_LIBRARIES)
    return tuple(sorted(f for f in folders if os.path.exists(f)))


def command_policy(
    inputs: list[str], pin_root: str | None, output_dir: str | None = None
) -> Policy:
    """command_policy: the policy for a command that reads `inputs`, pins under `pin_root`
    and puts an output file into `output_dir`."""
    from pybpftool.loader.targetbtf import ENV_TARGET, cache_dir

    inputs = [*inputs, os.environ.get(ENV_TARGET, "")]
    named = tuple(os.path.abspath(p) for p in inputs if p and os.path.exists(p))
    fixed = tuple(p for p in FIXED_INPUTS if os.path.exists(p))
    return Policy(
        read=named + fixed + library_folders(),
        pin_root=pin_root,
        cache=cache_dir(create=True),
        output_dir=output_dir,
    )


def settled() -> bool:
    """settled: confine() would change nothing (the sandbox is off, this process is confined
    already, or `auto` on a kernel without Landlock), so a caller need not build a policy:
    a -batch's later lines skip the policy of every file the batch names (quadratic)."""
    wanted = mode()
    if wanted == "off" or STATE.enforced:
        return True
    return wanted == "auto" and ll.abi_version() == 0


def confine(policy: Policy) -> bool:
    """confine: enforce `policy` on this process per PYBPFTOOL_SANDBOX; True when confined.

    Confining twice keeps the first (stricter) domain: Landlock domains only ever narrow.
    """
    wanted = mode()
    if wanted == "off" or STATE.enforced:
        return STATE.enforced
    abi = ll.abi_version()
    STATE.abi = abi
    if abi == 0:
        if wanted == "on":
            raise SandboxError(
                f"{ENV}=on, but this kernel has no Landlock", "Set PYBPFTOOL_SANDBOX=auto or off."
            )
        return False
    if STATE.reader is None:
        STATE.reader = _open_audit()
    ruleset = ll.Ruleset(fs=ll.fs_mask(abi), net=ll.net_mask(abi), scope=ll.scope_mask(abi))
    fd = ll.create_ruleset(abi, ruleset)
    try:
        for path in (*policy.read, *policy.extra_read):
            ll.add_path_rule(fd, path, READ)
        if policy.pin_root is not None and os.path.isdir(policy.pin_root):
            ll.add_path_rule(fd, policy.pin_root, PIN_ROOT)
        if policy.cache is not None:
            ll.add_path_rule(fd, policy.cache, CACHE & ll.fs_mask(abi))
        if policy.output_dir is not None:
            ll.add_path_rule(fd, policy.output_dir, OUTPUT_DIR)
        ll.restrict_self(fd, 0)
    except ll.LandlockError as err:
        raise SandboxError(f"cannot confine the process with Landlock: {err.strerror}") from None
    finally:
        os.close(fd)
    STATE.enforced, STATE.policy = True, policy
    return True


def open_audit_early() -> None:
    """open_audit_early: open the audit reader now, while in the initial network namespace
    (audit multicast exists only there); confine() uses it later."""
    if STATE.reader is None and mode() != "off":
        STATE.reader = _open_audit()


def _open_audit() -> object:
    """_open_audit: the audit multicast reader, or None without CAP_AUDIT_READ."""
    from pybpftool.sandbox.audit import AuditReader

    try:
        return AuditReader()
    except OSError:
        return None

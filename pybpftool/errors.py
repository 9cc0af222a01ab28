"""errors: the exception hierarchy shared by every layer (ARCHITECTURE.md "Errors").

A leaf module: it imports nothing from the package, so any layer may raise these.
Only `cli/common/boundary.py` turns them into messages and exit codes.
"""

from __future__ import annotations

import errno


class FsAccess:
    """FsAccess: the filesystem access a failure was refused, so that the sandbox can tell
    whether it refused it: the Landlock right the access needs (`read_file`, `make_reg`,
    `make_dir`, ...) and the path it was asked on (for a creation, the new entry's path)."""

    __slots__ = ("path", "right")

    def __init__(self, right: str, path: str) -> None:
        self.right = right
        self.path = path

    def __repr__(self) -> str:
        return f"FsAccess({self.right!r}, {self.path!r})"


class PyBpfError(Exception):
    """PyBpfError: a failure with a one-line message and an optional hint.

    Never shown with a traceback. `access` names the filesystem access that was refused,
    when the failure is one.
    """

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        details: tuple[str, ...] = (),
        access: FsAccess | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details  # lines printed before the message (iproute2 report blocks)
        self.access = access

    def __str__(self) -> str:
        return self.message


class UsageError(PyBpfError):
    """UsageError: bad, missing or duplicate command-line argument."""


class ClosedError(UsageError, ValueError):
    """ClosedError: a Program or Map used after its Collection was closed (its fd is gone).

    Also a ValueError, as Python's own closed files raise on use."""


class ObjectError(PyBpfError):
    """ObjectError: the ELF object cannot be used (unreadable, malformed, unsupported).

    The only exception the pure parser lets out.
    """


class ElfContextError(ObjectError):
    """ElfContextError: the file is not a readable ELF64 BPF object at all (no ELF context).

    iproute2 reports every such case as `Cannot initialize ELF context!`.
    """


class PinError(PyBpfError):
    """PinError: bpffs trouble or a pinned object incompatible with the object's spec."""


class KernelError(PyBpfError):
    """KernelError: a bpf(2) operation failed; carries errno and the operation name."""

    def __init__(
        self,
        operation: str,
        errno: int,
        message: str,
        hint: str | None = None,
        details: tuple[str, ...] = (),
        access: FsAccess | None = None,
    ) -> None:
        super().__init__(message, hint, details, access)
        self.operation = operation
        self.errno = errno


class VerifierError(KernelError):
    """VerifierError: BPF_PROG_LOAD rejected a program; carries the verifier log."""

    def __init__(
        self,
        program: str,
        errno: int,
        message: str,
        log: str,
        hint: str | None = None,
        details: tuple[str, ...] = (),
    ) -> None:
        super().__init__("prog load", errno, message, hint, details)
        self.program = program
        self.log = log


class NetlinkFailure(PyBpfError):
    """NetlinkFailure: the kernel refused a netlink request; carries errno and extack text."""

    def __init__(self, errno: int, message: str, extack: str | None = None) -> None:
        super().__init__(message)
        self.errno = errno
        self.extack = extack


class SandboxError(PyBpfError):
    """SandboxError: confinement requested but impossible, or an access it denied."""


class LinkNotFound(NetlinkFailure):
    """LinkNotFound: no network device of that name (in that network namespace): ENODEV."""

    def __init__(self, dev: str) -> None:
        super().__init__(errno.ENODEV, f'Cannot find device "{dev}"')
        self.dev = dev

"""fd: ownership of one BPF file descriptor (map, program, BTF, pinned object).

The kernel creates every BPF fd with O_CLOEXEC, so a spawned `ip` or shell never inherits
one. An `Fd` closes its descriptor exactly once: on `close()`, at the end of a `with` block, or
when garbage collected if nobody closed it; closing twice is a no-op, never a close of some
other file that reused the number.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from types import TracebackType


def _move(src: int, dst: int) -> None:
    os.dup2(src, dst, inheritable=False)  # dup3(src, dst, O_CLOEXEC): dst's old file is closed
    os.close(src)


class Fd:
    """Fd: an owned file descriptor number; `num` is -1 once closed."""

    __slots__ = ("_closer", "_duplicate", "_mover", "num")

    def __init__(
        self,
        num: int,
        closer: Callable[[int], None] = os.close,
        duplicate: Callable[[int], int] = os.dup,
        mover: Callable[[int, int], None] | None = None,
    ) -> None:
        if num < 0:
            raise ValueError(f"not a file descriptor: {num}")
        self.num = num
        self._closer = closer
        self._duplicate = duplicate  # fake kernels pass their own set
        self._mover = mover or _move

    @property
    def closed(self) -> bool:
        return self.num < 0

    def close(self) -> None:
        num, self.num = self.num, -1
        if num >= 0:
            self._closer(num)

    def dup(self) -> Fd:
        """dup: a second owned descriptor for the same object (CLOEXEC like the first)."""
        if self.closed:
            raise ValueError("dup of a closed fd")
        return Fd(self._duplicate(self.num), self._closer, self._duplicate, self._mover)

    def take_number(self, other: Fd) -> None:
        """take_number: move this descriptor onto `other`'s number, which `other` gives up
        (dup3 onto it, as libbpf's reuse_fd does; then this number is closed). Whatever was
        built with that number (a netlink request, say) now reaches this object."""
        if self.closed or other.closed:
            raise ValueError("take_number with a closed fd")
        target, other.num = other.num, -1
        self._mover(self.num, target)
        self.num = target

    def __int__(self) -> int:
        if self.closed:
            raise ValueError("use of a closed fd")
        return self.num

    def __enter__(self) -> Fd:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(OSError):
            self.close()

    def __repr__(self) -> str:
        return f"Fd({self.num})" if not self.closed else "Fd(closed)"

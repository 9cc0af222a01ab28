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


class Fd:
    """Fd: an owned file descriptor number; `num` is -1 once closed."""

    __slots__ = ("_closer", "_duplicate", "num")

    def __init__(
        self,
        num: int,
        closer: Callable[[int], None] = os.close,
        duplicate: Callable[[int], int] = os.dup,
    ) -> None:
        if num < 0:
            raise ValueError(f"not a file descriptor: {num}")
        self.num = num
        self._closer = closer
        self._duplicate = duplicate  # fake kernels pass their own pair

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
        return Fd(self._duplicate(self.num), self._closer, self._duplicate)

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

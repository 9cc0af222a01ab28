"""lazyexports: a package's public names imported from their modules on first use (PEP 562).

pybpftool, pybpftool.loader and pybpftool.netlink name their public records and functions in
the package, but importing the package must not import the modules behind them: `pyip -V`,
a listing or `object verify` would pay for loaders and codecs they never use.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the console's start-up)
if TYPE_CHECKING:
    from collections.abc import Callable

    Exports = tuple[Callable[[str], object], Callable[[], list[str]]]


def lazy_exports(package: str, homes: dict[str, str], namespace: dict[str, object]) -> Exports:
    """lazy_exports: the `__getattr__` and `__dir__` of `package`, whose globals are
    `namespace`: each name of `homes` is imported from its module (a full dotted name) when
    first asked for, then kept in `namespace` so later lookups never come back here."""

    def getattr_(name: str) -> object:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(__import__(home, fromlist=[name]), name)
        namespace[name] = value
        return value

    def dir_() -> list[str]:
        return sorted({*namespace, *homes})

    return getattr_, dir_

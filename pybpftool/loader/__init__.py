"""loader: ObjectSpec -> maps and programs in the kernel, iproute2's way (see core.py).

The names below are loaded on first use (PEP 562): the sandbox policy of every command reads
loader.targetbtf's cache folder, and `object show` or `object verify` would otherwise import
the whole loader (core.py, pinning, publishing) through this package.
"""

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the console's start-up)
if TYPE_CHECKING:
    from pybpftool.loader.core import (
        LoadedObject,
        LoadOptions,
        Program,
        load_object,
        select_programs,
    )
    from pybpftool.loader.maps import Map

_HOMES = {
    **dict.fromkeys(
        ("LoadOptions", "LoadedObject", "Program", "load_object", "select_programs"), "core"
    ),
    "Map": "maps",
}

__all__ = ["LoadOptions", "LoadedObject", "Map", "Program", "load_object", "select_programs"]


from pybpftool.lazyexports import lazy_exports  # noqa: E402 (after the names it serves)

__getattr__, __dir__ = lazy_exports(
    __name__, {name: f"{__name__}.{home}" for name, home in _HOMES.items()}, globals()
)

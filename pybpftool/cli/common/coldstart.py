"""coldstart: the console scripts' pyroute2 shortcut, and how it gives way to the real package.

pyroute2's package __init__ imports nearly all of pyroute2 (~200 ms: ndb, ipdb, asyncio,
every socket family), while pyip and pytc use only its netlink message codecs. A console
script (and nothing else: library code leaves sys.modules alone) therefore puts a `pyroute2`
package in sys.modules whose __init__ has not run yet, so that importing
`pyroute2.netlink...` loads only those modules.

That package is the real one, deferred: the first time anyone asks it for a name it does not
have yet (`from pyroute2 import IPRoute`, `pyroute2.__version__`), it runs pyroute2's own
__init__ in place and answers from the result, exactly as if the package had been imported
normally. The modules already imported through it are the same module objects either way.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # neither typing nor types is imported: this runs in `pyip -V` too
if TYPE_CHECKING:
    from types import ModuleType

PACKAGE = "pyroute2"


def install_pyroute2_stub() -> None:
    """install_pyroute2_stub: a deferred `pyroute2` package in sys.modules, unless pyroute2
    is imported already or cannot be found (then the normal import reports it)."""
    if PACKAGE in sys.modules:
        return
    for entry in sys.path:
        folder = os.path.join(entry or ".", PACKAGE)
        init = os.path.join(folder, "__init__.py")
        if os.path.isfile(init):
            stub = type(sys)(PACKAGE)  # a types.ModuleType
            stub.__path__ = [folder]
            stub.__file__ = init
            _defer(stub)
            sys.modules[PACKAGE] = stub
            return


def _defer(stub: ModuleType) -> None:
    """_defer: the module __getattr__ (PEP 562) that completes `stub` on first use."""

    def complete(name: str) -> object:
        return _complete(stub, name)

    stub.__getattr__ = complete  # type: ignore[method-assign]


def is_deferred(module: ModuleType) -> bool:
    """is_deferred: `module` is the stub and pyroute2's __init__ has not run in it yet."""
    return "__getattr__" in vars(module) and getattr(module, "__spec__", None) is None


def _is_submodule(stub: ModuleType, name: str) -> bool:
    """_is_submodule: `name` is a module or package file of pyroute2's folder."""
    return any(
        os.path.isfile(os.path.join(folder, name + ".py"))
        or os.path.isdir(os.path.join(folder, name))
        for folder in stub.__path__
    )


def _complete(stub: ModuleType, name: str) -> object:
    """_complete: run pyroute2's __init__ in `stub` (once), then look `name` up in it.

    A submodule not imported yet is left to the import system, as for the real package
    (`from pyroute2 import protocols` inside pyroute2 asks for one while the codecs load).
    """
    if is_deferred(stub) and not _is_submodule(stub, name):
        import importlib.util

        spec = importlib.util.spec_from_file_location(
            PACKAGE, stub.__file__, submodule_search_locations=list(stub.__path__)
        )
        assert spec is not None and spec.loader is not None
        del stub.__getattr__  # from here on, a missing name is missing
        stub.__spec__, stub.__loader__ = spec, spec.loader
        try:
            spec.loader.exec_module(stub)
        except BaseException:
            stub.__spec__ = None  # still deferred: the next access tries again
            _defer(stub)
            raise
    try:
        return vars(stub)[name]
    except KeyError:
        raise AttributeError(f"module {PACKAGE!r} has no attribute {name!r}") from None

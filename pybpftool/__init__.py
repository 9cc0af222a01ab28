"""pybpftool: iproute2-compatible BPF front ends with a pure-Python ELF loader, and the same
core as a typed Python API.

    import pybpftool

    with pybpftool.load("prog.o", section="classifier", prog_type="sched_cls") as obj:
        pybpftool.attach_tc("eth0", "ingress", obj.program)
        print(obj.maps["counters"].lookup(bytes(4)))

Public names: `load` (-> `Collection` of `Program` and `Map`), `attach_xdp`, `detach_xdp`,
`attach_tc` (-> `TcFilter`), `detach_tc`, `confine`, and the errors `PyBpfError`,
`UsageError` (with `ClosedError`), `ObjectError`, `PinError`, `KernelError`,
`VerifierError`, `NetlinkFailure`, `LinkNotFound`, `SandboxError`. The README's "Python
API" section has a walk-through.

Importing this package imports nothing else: `pyip -V` must not pay for what it does not
use, and neither must a Python caller. Each name is loaded on first use (PEP 562).
"""

__version__ = "0.1.0"

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up)
if TYPE_CHECKING:
    from pybpftool.api.confine import confine
    from pybpftool.api.objects import Collection, Map, Program, load
    from pybpftool.api.tc import TcFilter, attach_tc, detach_tc
    from pybpftool.api.xdp import attach_xdp, detach_xdp
    from pybpftool.errors import (
        ClosedError,
        KernelError,
        LinkNotFound,
        NetlinkFailure,
        ObjectError,
        PinError,
        PyBpfError,
        SandboxError,
        UsageError,
        VerifierError,
    )

_HOMES = {
    **dict.fromkeys(("Collection", "Map", "Program", "load"), "pybpftool.api.objects"),
    **dict.fromkeys(("TcFilter", "attach_tc", "detach_tc"), "pybpftool.api.tc"),
    **dict.fromkeys(("attach_xdp", "detach_xdp"), "pybpftool.api.xdp"),
    "confine": "pybpftool.api.confine",
    **dict.fromkeys(
        (
            "ClosedError",
            "KernelError",
            "LinkNotFound",
            "NetlinkFailure",
            "ObjectError",
            "PinError",
            "PyBpfError",
            "SandboxError",
            "UsageError",
            "VerifierError",
        ),
        "pybpftool.errors",
    ),
}

__all__ = [
    "ClosedError",
    "Collection",
    "KernelError",
    "LinkNotFound",
    "Map",
    "NetlinkFailure",
    "ObjectError",
    "PinError",
    "Program",
    "PyBpfError",
    "SandboxError",
    "TcFilter",
    "UsageError",
    "VerifierError",
    "attach_tc",
    "attach_xdp",
    "confine",
    "detach_tc",
    "detach_xdp",
    "load",
]


from pybpftool.lazyexports import lazy_exports  # noqa: E402 (after the names it serves)

__getattr__, __dir__ = lazy_exports(__name__, _HOMES, globals())

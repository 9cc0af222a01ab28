"""confine: Landlock for a Python caller who asks for it, as pyip and pytc confine themselves.

The library never confines on its own: a daemon or test harness calls `pybpftool.confine()`
once it has opened what it needs, and from then on the process (every thread, for good, and
its children) can only do what the policy of sandbox/ allows a pyip/pytc command.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from pybpftool.api.objects import StrPath


def confine(*, read: Iterable[StrPath] = (), pin_root: StrPath | None = None) -> bool:
    """confine: restrict the calling process with Landlock, for good, to what pyip and pytc
    allow themselves: read the files and folders in `read` (the objects you will load, say),
    the fixed inputs (/etc/iproute2, the kernel BTF, /proc/self) and the interpreter's
    library folders; create and remove pins only beneath the pin root (`pin_root`, default
    `$TC_BPF_MNT` or /sys/fs/bpf, mounted and given iproute2's folders now, since that is
    impossible afterwards); no writing or truncating files, no device ioctls, no TCP.

    Namespaces are opened by path when a call uses `netns`: put "/run/netns" in `read` to
    keep using them. Returns True when the process is confined, False when the kernel has
    no Landlock (or PYBPFTOOL_SANDBOX=off); SandboxError when PYBPFTOOL_SANDBOX=on and it
    cannot be done.
    A process is confined once: calling it again keeps the first confinement.
    """
    from pybpftool import sandbox
    from pybpftool.kernel.bpffs import ensure_mount, make_hierarchy

    env = None if pin_root is None else {**os.environ, "TC_BPF_MNT": os.fspath(pin_root)}
    mount = ensure_mount(env)
    make_hierarchy(mount)
    return sandbox.confine(sandbox.command_policy([os.fspath(p) for p in read], mount))

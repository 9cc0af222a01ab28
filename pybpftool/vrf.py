"""vrf: what `ip vrf exec` does (ip/ipvrf.c): a per-VRF cgroup with a socket program.

The program is built from instructions here (no object file): on every socket created in
the cgroup it sets `bound_dev_if` to the VRF device's ifindex, so the socket lives in that
VRF. The cgroup is `<cgroup2 mount><own cgroup minus /vrf...>/<netns>-ns/vrf/<NAME>`, the
netns part only when the current network namespace has a name in /var/run/netns.
"""

from __future__ import annotations

import os

from pybpftool.errors import KernelError, PyBpfError
from pybpftool.insn import encode
from pybpftool.kernel.bpf import BPF_LOG_LEVEL1, Kernel, ProgRequest
from pybpftool.kernel.fd import Fd
from pybpftool.uapi import BpfAttachType, BpfProgType

CGROUP2_FALLBACK = "/var/run/cgroup2"
NETNS_DIR = "/var/run/netns"
SOCK_PROG_LOG = 256 << 10  # iproute2's log buffer for this program


def sock_create_program(ifindex: int) -> bytes:
    """sock_create_program: r6 = r1; r3 = ifindex; r2 = 0; *(u32 *)(r1 + 0) = r3 (the
    bound_dev_if field of struct bpf_sock); r0 = 1; exit."""
    return b"".join(
        (
            encode(0xBF, dst=6, src=1),  # r6 = r1
            encode(0xB7, dst=3, imm=ifindex),  # r3 = ifindex
            encode(0xB7, dst=2, imm=0),  # r2 = offsetof(struct bpf_sock, bound_dev_if)
            encode(0x63, dst=1, src=3, off=0),  # *(u32 *)(r1 + 0) = r3
            encode(0xB7, dst=0, imm=1),  # r0 = 1: allow the socket
            encode(0x95),  # exit
        )
    )


def load_sock_program(kernel: Kernel, ifindex: int) -> Fd:
    """load_sock_program: the CGROUP_SOCK program for `ifindex`, with iproute2's messages."""
    req = ProgRequest(
        prog_type=BpfProgType.BPF_PROG_TYPE_CGROUP_SOCK,
        insns=sock_create_program(ifindex),
        license="GPL",
        expected_attach_type=BpfAttachType.BPF_CGROUP_INET_SOCK_CREATE,
    )
    result = kernel.prog_load(req, BPF_LOG_LEVEL1, SOCK_PROG_LOG)
    if result.fd is None:
        why = os.strerror(result.errno)
        hint = "" if result.errno == 1 else "\nKernel compiled with CGROUP_BPF enabled?"
        raise PyBpfError(f"Failed to load BPF prog: '{why}'\n{result.log}{hint}")
    return result.fd


def attach_to_cgroup(kernel: Kernel, cgroup: str, prog: Fd) -> None:
    """attach_to_cgroup: BPF_PROG_ATTACH as BPF_CGROUP_INET_SOCK_CREATE, flags 0."""
    try:
        fd = Fd(os.open(cgroup, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC))
    except OSError as err:
        raise PyBpfError(f"Failed to open cgroup path: '{err.strerror}'") from None
    with fd:
        try:
            kernel.prog_attach(fd, prog, BpfAttachType.BPF_CGROUP_INET_SOCK_CREATE)
        except KernelError as err:
            raise PyBpfError(
                f"Failed to attach prog to cgroup: '{os.strerror(err.errno)}'"
            ) from None


def cgroup2_mount(mounts: str = "/proc/mounts") -> str:
    """cgroup2_mount: where cgroup2 is mounted; mounted at /var/run/cgroup2 when nowhere."""
    with open(mounts) as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 3 and fields[2] == "cgroup2":
                return fields[1]
    os.makedirs(CGROUP2_FALLBACK, exist_ok=True)
    from pybpftool.kernel.bpffs import _mount

    err = _mount(b"none", CGROUP2_FALLBACK, b"cgroup2", 0)
    if err:
        raise PyBpfError(f"Failed to mount cgroup2 on {CGROUP2_FALLBACK}: {os.strerror(err)}")
    return CGROUP2_FALLBACK


def own_cgroup(proc: str = "/proc/self/cgroup") -> str:
    """own_cgroup: this process's cgroup2 path, without a trailing /vrf... part."""
    with open(proc) as f:
        for line in f:
            if line.startswith("0::"):
                path = line[3:].strip()
                return path.split("/vrf", 1)[0].rstrip("/")
    return ""


def netns_name() -> str | None:
    """netns_name: the name under /var/run/netns of the current network namespace, if any."""
    try:
        here = os.stat("/proc/self/ns/net")
        names = os.listdir(NETNS_DIR)
    except OSError:
        return None
    for name in sorted(names):
        try:
            st = os.stat(os.path.join(NETNS_DIR, name))
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (here.st_dev, here.st_ino):
            return name
    return None


def vrf_cgroup(name: str) -> str:
    """vrf_cgroup: the cgroup folder of VRF `name` (`default`: the vrf folder itself)."""
    base = cgroup2_mount() + own_cgroup()
    ns = netns_name()
    if ns is not None:
        base += f"/{ns}-ns"
    return f"{base}/vrf/" if name == "default" else f"{base}/vrf/{name}"


def join_cgroup(cgroup: str) -> None:
    """join_cgroup: mkdir -p 0755, then write our pid to cgroup.procs."""
    try:
        os.makedirs(cgroup, mode=0o755, exist_ok=True)
    except OSError:
        raise PyBpfError("Failed to setup vrf cgroup2 directory") from None
    try:
        with open(os.path.join(cgroup, "cgroup.procs"), "w") as procs:
            procs.write(f"{os.getpid()}\n")
    except OSError as err:
        raise PyBpfError(
            f"Failed to open cgroups.procs file: {err.strerror}.\nFailed to join cgroup"
        ) from None

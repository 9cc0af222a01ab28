"""The modules each hot command imports, through its installed console script (issue 19).

Scripts run pyip and pytc in loops, so what a cold command imports is most of what it costs
(benchmarks/bench_speed.py times it; this test, which times nothing, keeps it from creeping
back). Each command runs for real, in a throwaway namespace with a private bpffs, under
Python's import profile, which names every module the process imported.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from bpfobjs import build
from scripts import BIN

# Never on a hot path: the CLI toolkits and pyelftools, dataclasses with its inspect, ast
# and dis (the specs are NamedTuples; tokenize comes anyway, logging's traceback imports
# linecache), pyroute2's full codecs' plugin machinery (pyroute2.config imports
# multiprocessing).
NEVER = {"click", "rich", "elftools", "pyroute2.config", "multiprocessing"} | {
    "dataclasses",
    "inspect",
    "ast",
    "dis",
}
# What only loading an object needs: a show command imports none of it.
LOADING = {
    "pybpftool.spec",
    "pybpftool.parser",
    "pybpftool.btf",
    "pybpftool.loader",
    "pybpftool.api",
}
# What only a command that confines itself needs (a load): Landlock and the audit reader.
CONFINING = {"pybpftool.sandbox", "pybpftool.sandbox.audit", "pybpftool.kernel.landlock"}
# What only loading and pinning need of the kernel: a listing names its programs through
# kernel.info and its infoattrs alone, without the loader's bpf_attr structures.
LOADER_KERNEL = {
    "pybpftool.kernel.bpf",
    "pybpftool.kernel.pindir",
    "pybpftool.pinning",
    "pybpftool.kernel.attrs",
}
# What a listing needs only for -j, or when the kernel refuses: the JSON writer and the
# failure wording.
LISTING_EXTRAS = {"pybpftool.cli.common.jsonw", "pybpftool.cli.common.failures"}
# What only some loads need: CO-RE against the kernel's BTF, and printing a dump.
CO_RE = {"pybpftool.btf.core", "pybpftool.btf.target"}
SHOWING = {"pybpftool.cli.tc.show", "pybpftool.cli.ip.linkshow", "pybpftool.cli.common.jsonw"}


def imported(cmd: list[str], env: dict[str, str]) -> set[str]:
    """imported: every module the command's process imported (python -X importtime)."""
    out = subprocess.run(
        cmd, env={**env, "PYTHONPROFILEIMPORTTIME": "1"}, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return {
        line.rsplit("|", 1)[-1].strip()
        for line in out.stderr.splitlines()
        if line.startswith("import time:")
    }


@pytest.fixture
def clsact(netns: str) -> str:
    subprocess.run(["tc", "-n", netns, "qdisc", "add", "dev", "v0", "clsact"], check=True)
    return netns


def test_link_show(netns: str, env: dict[str, str]) -> None:
    xdp = [str(BIN / "pyip"), "-n", netns, "link", "set", "dev", "v1", "xdpgeneric", "obj"]
    subprocess.run([*xdp, str(build("xdp_pass")), "sec", "xdp"], env=env, check=True)
    mods = imported([str(BIN / "pyip"), "-n", netns, "link", "show"], env)
    assert "pybpftool.cli.ip.linkshow" in mods  # the profile covers the command
    assert "pybpftool.kernel.info" in mods  # and the XDP program's line
    # the dump decodes with linkcodec's light ifinfomsg: no ifinfmsg, no plugins, no config
    full = {"pyroute2.netlink.rtnl.ifinfmsg", "pyroute2.netlink.rtnl.tcmsg"}
    xdp_grammar = {"pybpftool.cli.ip.link", "pybpftool.cli.common.bpfsource"}
    assert mods & (NEVER | LOADING | CONFINING | LOADER_KERNEL | full | xdp_grammar) == set()
    # without -s no counters are printed; a dump looks up no name (fcntl's ioctl does)
    assert mods & (LISTING_EXTRAS | {"pybpftool.cli.ip.linkstats", "fcntl"}) == set()


def test_filter_show(clsact: str, env: dict[str, str]) -> None:
    add = [str(BIN / "pytc"), "-n", clsact, "filter", "add", "dev", "v0", "ingress", "bpf"]
    subprocess.run([*add, "da", "obj", str(build("call_order")), "sec", "classifier"], env=env,
                   check=True)  # fmt: skip
    mods = imported(
        [str(BIN / "pytc"), "-n", clsact, "filter", "show", "dev", "v0", "ingress"], env
    )
    assert "pybpftool.cli.tc.show" in mods
    assert "pybpftool.kernel.info" in mods  # the filter's program named
    full = {"pyroute2.netlink.rtnl.tcmsg"}
    assert mods & (NEVER | LOADING | CONFINING | LOADER_KERNEL | LISTING_EXTRAS | full) == set()
    assert "pybpftool.netlink.linkattrs" not in mods  # no link is decoded: no Link records
    # a listing reads no bpf options: the program grammar is a modifying line's
    grammar = {"pybpftool.cli.tc.bpfopts", "pybpftool.cli.tc.filterprog",
               "pybpftool.cli.common.bpfsource"}  # fmt: skip
    assert mods & grammar == set()


def test_filter_replace(clsact: str, env: dict[str, str]) -> None:
    obj = build("call_order")
    cmd = [str(BIN / "pytc"), "-n", clsact, "filter", "replace", "dev", "v0", "ingress"]
    mods = imported([*cmd, "bpf", "da", "obj", str(obj), "sec", "classifier"], env)
    assert "pybpftool.loader.core" in mods
    assert mods >= CONFINING  # a load confines the process (the audit socket opened first)
    # a filter without actions goes out through the light codec: no tcmsg, no plugins; an
    # eBPF object needs no classic BPF parser
    light = {"pyroute2.netlink.rtnl.tcmsg", "pybpftool.cli.tc.cbpf", "pybpftool.netlink.linkattrs"}
    assert mods & (NEVER | CO_RE | SHOWING | light) == set()


def test_xdp_attach(netns: str, env: dict[str, str]) -> None:
    obj = build("xdp_pass")
    cmd = [str(BIN / "pyip"), "-n", netns, "link", "set", "dev", "v1", "xdpgeneric", "obj"]
    mods = imported([*cmd, str(obj), "sec", "xdp"], env)
    assert "pybpftool.loader.core" in mods
    assert mods >= CONFINING  # a load confines the process (the audit socket opened first)
    assert mods & (NEVER | CO_RE | SHOWING | {"pyroute2.netlink.rtnl.ifinfmsg"}) == set()


# pybpftool object verify needs click and the loader, but not what the other subcommands
# or a cold CO-RE cache need: rich draws only on a terminal (or a table rich must wrap),
# OpenSSL only hashes a target file that is not the running kernel's, tempfile only writes
# the cache; it pins nothing, so none of loading for real (load_object, publishing, bpffs,
# renaming pins, reading a loaded program back). Nothing asks for verbose, so none of
# iproute2's load report; the audit reader is a plain descriptor, without the socket module.
VERIFY_NEVER = {
    "pybpftool.loader.core",
    "pybpftool.loader.publish",
    "pybpftool.kernel.bpffs",
    "pybpftool.kernel.pindir",
    "pybpftool.pinning",
    "pybpftool.kernel.info",
    "pybpftool.loader.report",
    "socket",
    "selectors",
    "select",
    "rich",
    "elftools",
    "pyroute2",
    "multiprocessing",
    "hashlib",
    "_hashlib",
    "tempfile",
    "pybpftool.cli.bpftool.objshow",
    "pybpftool.cli.bpftool.convertcmd",
    "pybpftool.cli.bpftool.complete",
    "pybpftool.convert",
    "pybpftool.sandbox.check",
}


def test_object_verify_with_a_warm_core_cache(env: dict[str, str], tmp_path: Path) -> None:
    from pybpftool.loader.targetbtf import ENV_CACHE, kernel_build_id

    if kernel_build_id() is None:
        pytest.skip("the kernel has no build ID: its BTF is keyed by a content hash")
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    env = {**env, ENV_CACHE: str(cache)}
    verify = [str(BIN / "pybpftool"), "object", "verify"]
    obj = str(build("core_kernel", "bpfel"))
    imported([*verify, "--json", obj], env)  # fills the cache
    as_json = imported([*verify, "--json", obj], env)
    assert {"pybpftool.loader.verify", "pybpftool.btf.target", "json"} <= as_json
    assert as_json & VERIFY_NEVER == set()
    table = imported([*verify, obj], env)  # piped: plain text
    assert "pybpftool.cli.bpftool.verifyshow" in table
    assert table & (VERIFY_NEVER | {"json"}) == set()


def test_object_show_piped(env: dict[str, str]) -> None:
    mods = imported([str(BIN / "pybpftool"), "object", "show", str(build("call_order"))], env)
    assert "pybpftool.cli.bpftool.objshow" in mods
    assert mods & {"rich", "json", "elftools", "pyroute2"} == set()
    # the sandbox policy reads loader.targetbtf's cache folder: that imports no loading
    assert "pybpftool.loader.targetbtf" in mods
    loading = {"pybpftool.loader.core", "pybpftool.loader.maps", "pybpftool.kernel.bpffs"}
    assert mods & (LOADER_KERNEL | loading) == set()

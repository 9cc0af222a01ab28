"""pybpftool shares its process with the caller's own pyroute2: it never changes pyroute2's
classes, it leaves the real package in sys.modules, and its codecs stay right whatever
pyroute2 class the caller used first. Each case runs in a fresh interpreter; no root needed
(the one socket opened is an unprivileged rtnetlink dump)."""

from __future__ import annotations

import subprocess
import sys

# pyroute2 as a program sees it: its classes' attribute tables and plugin options class.
SHOW_PYROUTE2 = """
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg
from pyroute2.netlink.rtnl.tcmsg import plugins, sched_bpf, tcmsg
print(repr(tcmsg.nla_map))
print(repr(ifinfmsg.nla_map))
print(sched_bpf.options, repr(sched_bpf.options.nla_map), plugins["bpf"] is sched_bpf)
print(sorted(k for k in vars(tcmsg) if not k.startswith("_nlmsg_base__")))
"""

# Every codec pybpftool builds, each used to encode and decode a message.
USE_OUR_CODECS = """
from pybpftool.netlink import ActionRequests, TcRequests, bpf_filter_message
from pybpftool.netlink.codecs import light_codecs, tc_codecs
from pybpftool.netlink.tc import _chain_tcmsg
for command, kw in (
    ("add-filter", {"parent": 1, "fd": 3, "name": "x", "chain": 2, "skip_sw": True}),
    ("add-filter", {"parent": 1, "fd": 3, "action": [{"kind": "gact", "action": "ok"}]}),
):
    msg, kind, flags = bpf_filter_message(command, 2, **kw)
    msg["header"]["type"] = kind
    msg.encode()
    type(msg)(msg.data).decode()
for codec in (light_codecs()["link"], tc_codecs(), _chain_tcmsg()):
    codec().encode()
TcRequests(None), ActionRequests(None)
"""


def python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_pyroute2s_classes_are_as_it_ships_them_after_our_codecs_ran() -> None:
    assert python(USE_OUR_CODECS + SHOW_PYROUTE2) == python(SHOW_PYROUTE2)


# A filter as a dump reports it: the attributes pyroute2's own tables lack.
ROUND_TRIP = """
from pybpftool.netlink.codecs import tc_codecs
codec = tc_codecs()
msg = codec()
msg["family"], msg["index"], msg["handle"], msg["parent"], msg["info"] = 0, 2, 1, 0xFFFFFFF2, 3
msg["attrs"] = [
    ["TCA_KIND", "bpf"],
    ["TCA_OPTIONS", {"attrs": [
        ["TCA_BPF_FD", 9], ["TCA_BPF_NAME", "f.o:[cls]"], ["TCA_BPF_FLAGS", 1],
        ["TCA_BPF_FLAGS_GEN", 8], ["TCA_BPF_TAG", bytes.fromhex("7f00010203040506")],
        ["TCA_BPF_ID", 77],
    ]}],
    ["TCA_CHAIN", 5],
]
msg["header"]["type"] = 44
msg.encode()
back = codec(msg.data)
back.decode()
options = back.get_attr("TCA_OPTIONS")
print(back.get_attr("TCA_CHAIN"), options.get_attr("TCA_BPF_ID"),
      options.get_attr("TCA_BPF_FLAGS_GEN"), options.get_attr("TCA_BPF_TAG"))
"""
# pyroute2's own classes used (their attribute tables compiled) before ours exist.
CALLER_FIRST = """
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg
from pyroute2.netlink.rtnl.tcmsg import sched_bpf, tcmsg
tcmsg(), sched_bpf.options(), ifinfmsg()
"""


def test_our_codecs_keep_their_attributes_when_the_caller_used_pyroute2_first() -> None:
    """pyroute2 caches a compiled table on the class that used it first, and a subclass
    inherits the cache: ours must compile their own or lose TCA_CHAIN and TCA_BPF_ID."""
    expected = "5 77 8 7f:00:01:02:03:04:05:06\n"
    assert python(ROUND_TRIP) == expected
    assert python(CALLER_FIRST + ROUND_TRIP) == expected


def test_library_use_leaves_the_real_pyroute2_package() -> None:
    code = USE_OUR_CODECS + (
        "import sys\n"
        "pkg = sys.modules['pyroute2']\n"
        "print(pkg.__spec__.origin == pkg.__file__, 'IPRoute' in vars(pkg))\n"
        "from pyroute2 import IPRoute\n"
        "with IPRoute() as ipr: print(len(ipr.get_links()) > 0)\n"
    )
    assert python(code) == "True True\nTrue\n"


def test_the_console_stub_defers_pyroute2_and_becomes_it_when_asked() -> None:
    """The console scripts' cold start loads the codecs without pyroute2's package
    __init__; the first caller that asks the package for a name gets the real one, with
    the modules already loaded as its submodules."""
    code = (
        "import sys\n"
        "from pybpftool.cli.common.coldstart import install_pyroute2_stub, is_deferred\n"
        "install_pyroute2_stub()\n"
        + USE_OUR_CODECS
        + "pkg = sys.modules['pyroute2']\n"
        "import pyroute2.netlink as before\n"
        "print(is_deferred(pkg), 'pyroute2.iproute' in sys.modules)\n"
        "from pyroute2 import IPRoute\n"
        "import pyroute2.netlink as after\n"
        "print(is_deferred(pkg), sys.modules['pyroute2'] is pkg, before is after)\n"
        "print(pkg.__spec__.origin == pkg.__file__, pkg.__version__ != 'unknown')\n"
        "with IPRoute() as ipr: print(len(ipr.get_links()) > 0)\n"
        "try:\n"
        "    pkg.no_such_name\n"
        "except AttributeError as err:\n"
        "    print(err)\n"
    )
    assert python(code).splitlines() == [
        "True False",
        "False True True",
        "True True",
        "True",
        "module 'pyroute2' has no attribute 'no_such_name'",
    ]

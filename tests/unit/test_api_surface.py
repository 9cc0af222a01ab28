"""The public Python API as a caller meets it, without root: names, docstrings, types, the
error hierarchy, and every argument refused before anything reaches the kernel."""

from __future__ import annotations

import inspect
import tomllib
from pathlib import Path

import bpfobjs
import pytest

import pybpftool
from pybpftool import api

ROOT = Path(__file__).resolve().parents[2]
NAMES = (
    "load",
    "Collection",
    "Program",
    "Map",
    "attach_xdp",
    "detach_xdp",
    "attach_tc",
    "detach_tc",
    "PyBpfError",
    "ObjectError",
    "PinError",
    "KernelError",
    "VerifierError",
    "NetlinkFailure",
    "SandboxError",
)


def test_the_issue_names_are_all_there_and_all_documented() -> None:
    assert set(NAMES) <= set(pybpftool.__all__)
    assert sorted(pybpftool.__all__) == sorted(pybpftool._HOMES)
    for name in pybpftool.__all__:
        value = getattr(pybpftool, name)
        assert inspect.getdoc(value), name
        assert name in dir(pybpftool)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        pybpftool.nope  # noqa: B018


def test_public_methods_and_properties_are_documented() -> None:
    for cls in (pybpftool.Collection, pybpftool.Program, pybpftool.Map):
        for name, member in vars(cls).items():
            if not name.startswith("_") and (callable(member) or isinstance(member, property)):
                assert inspect.getdoc(member), f"{cls.__name__}.{name}"


def shape(func: object) -> tuple[list[tuple[str, str, object]], object]:
    """shape: a function's parameters (name, kind, default) and its return annotation, as
    written (a module without `from __future__ import annotations` holds the class)."""
    sig = inspect.signature(func)  # type: ignore[arg-type]
    params = [(p.name, p.kind.name, p.default) for p in sig.parameters.values()]
    returns = sig.return_annotation
    written = returns if isinstance(returns, str) else getattr(returns, "__name__", str(returns))
    return params, written


POS, KW, NONE = "POSITIONAL_OR_KEYWORD", "KEYWORD_ONLY", inspect.Parameter.empty


def test_signatures_are_the_issues() -> None:
    """Exactly the issue's signatures: positional names, keyword-only names, defaults."""
    assert shape(pybpftool.load) == (
        [
            ("path", POS, NONE),
            ("section", KW, None),
            ("prog_type", KW, None),
            ("pin_root", KW, None),
        ],
        "Collection",
    )
    assert shape(pybpftool.attach_xdp) == (
        [
            ("dev", POS, NONE),
            ("prog", POS, NONE),
            ("mode", KW, "auto"),
            ("replace", KW, False),
            ("netns", KW, None),
        ],
        "None",
    )
    assert shape(pybpftool.detach_xdp) == ([("dev", POS, NONE), ("netns", KW, None)], "bool")
    assert shape(pybpftool.attach_tc) == (
        [
            ("dev", POS, NONE),
            ("direction", POS, NONE),
            ("prog", POS, NONE),
            ("pref", KW, None),
            ("handle", KW, None),
            ("direct_action", KW, True),
            ("replace", KW, False),
            ("netns", KW, None),
        ],
        "TcFilter",
    )
    assert shape(pybpftool.detach_tc) == (
        [
            ("dev", POS, NONE),
            ("direction", POS, NONE),
            ("pref", KW, None),
            ("handle", KW, None),
            ("netns", KW, None),
        ],
        "None",
    )
    assert set(pybpftool.api.xdp.XDP_MODES) == {"auto", "generic", "driver", "offload"}


@pytest.mark.parametrize(
    ("mode", "ip_word"),
    [("auto", "xdp"), ("generic", "xdpgeneric"), ("driver", "xdpdrv"), ("offload", "xdpoffload")],
)
def test_xdp_modes_send_ips_flags(mode: str, ip_word: str) -> None:
    """attach_xdp's modes are `ip link set DEV {xdp|xdpgeneric|xdpdrv|xdpoffload}`: the same
    XDP_FLAGS_*_MODE, with UPDATE_IF_NOEXIST unless replace (ip's -force). Offload is
    checked here only: the machine has no device that offloads (no netdevsim)."""
    from pybpftool.cli.ip.link import XDP_MODES as IP_MODES

    assert pybpftool.api.xdp.xdp_flags(mode, replace=True) == IP_MODES[ip_word]
    assert pybpftool.api.xdp.xdp_flags(mode, replace=False) == IP_MODES[ip_word] | 1


def test_the_package_ships_its_type_hints() -> None:
    assert (ROOT / "pybpftool" / "py.typed").is_file()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "py.typed" in pyproject["tool"]["setuptools"]["package-data"]["pybpftool"]


def test_error_hierarchy() -> None:
    base = pybpftool.PyBpfError
    for name in ("UsageError", "ObjectError", "PinError", "KernelError", "NetlinkFailure"):
        assert issubclass(getattr(pybpftool, name), base), name
    assert issubclass(pybpftool.SandboxError, base)
    assert issubclass(pybpftool.ClosedError, pybpftool.UsageError)
    assert issubclass(pybpftool.ClosedError, ValueError)  # as a closed file's use raises
    assert issubclass(pybpftool.VerifierError, pybpftool.KernelError)
    assert issubclass(pybpftool.LinkNotFound, pybpftool.NetlinkFailure)
    err = pybpftool.VerifierError("p", 13, "rejected", "0: R1=ctx\ninvalid mem access\n")
    assert (err.log, err.errno) == ("0: R1=ctx\ninvalid mem access\n", 13)
    assert err.operation == "prog load"
    missing = pybpftool.LinkNotFound("eth9")
    assert (missing.errno, str(missing)) == (19, 'Cannot find device "eth9"')


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: pybpftool.attach_xdp("v0", "/x", mode="native"), "unknown XDP mode 'native'"),
        (lambda: pybpftool.attach_tc("v0", "in", "/x"), "direction must be 'ingress' or"),
        (lambda: pybpftool.attach_tc("v0", "ingress", "/x", pref=0), "pref must be an integer"),
        (lambda: pybpftool.attach_tc("v0", "ingress", "/x", pref=65536), "from 1 to 65535"),
        (lambda: pybpftool.attach_tc("v0", "ingress", "/x", pref=True), "pref must be"),
        (lambda: pybpftool.attach_tc("v0", "egress", "/x", handle=-1), "handle must be"),
        (lambda: pybpftool.attach_tc("v0", "egress", 42), "a Program or the path"),  # type: ignore[arg-type]
        (lambda: pybpftool.detach_tc("v0", "ingress", handle=1), "a handle needs its pref"),
        (lambda: pybpftool.attach_tc("v0", [], "/x"), "direction must be 'ingress' or"),  # type: ignore[arg-type]
        (lambda: pybpftool.attach_xdp("v0", "/x", mode=[]), "unknown XDP mode"),  # type: ignore[arg-type]
        (lambda: pybpftool.attach_xdp(None, "/x"), "dev must be a str"),  # type: ignore[arg-type]
        (lambda: pybpftool.attach_tc("", "ingress", "/x"), "'' is not a valid device name"),
        (lambda: pybpftool.detach_xdp("x" * 16), "is not a valid device name"),
        (lambda: pybpftool.detach_tc("a b", "egress"), "'a b' is not a valid device name"),
        (lambda: pybpftool.detach_xdp("v0/1"), "is not a valid device name"),
        (lambda: pybpftool.detach_xdp("v0", netns=""), "'' is not a valid network namespace"),
        (lambda: pybpftool.detach_xdp("v0", netns=".."), "is not a valid network namespace"),
        (lambda: pybpftool.detach_xdp("v0", netns="a\0b"), "is not a valid network namespace"),
        (lambda: pybpftool.detach_xdp("v0", netns="n" * 256), "is not a valid network"),
        (lambda: pybpftool.detach_xdp("v0", netns=5), "netns must be a name"),  # type: ignore[arg-type]
        (lambda: pybpftool.attach_tc("v0", "ingress", "a\0b"), "prog is not a usable path"),
        (lambda: pybpftool.attach_xdp("v0", "/x", replace="no"), "replace must be True or"),  # type: ignore[arg-type]
        (lambda: pybpftool.attach_tc("v0", "ingress", "/x", replace=1), "replace must be True"),  # type: ignore[arg-type]
        (lambda: pybpftool.attach_tc("v0", "ingress", "/x", direct_action=None), "direct_action"),  # type: ignore[arg-type]
        (lambda: pybpftool.load(42), "path must be a str or os.PathLike"),  # type: ignore[arg-type]
        (lambda: pybpftool.load(None), "path must be a str or os.PathLike"),  # type: ignore[arg-type]
        (lambda: pybpftool.load(b"x.o"), "path must be a str or os.PathLike"),  # type: ignore[arg-type]
        (lambda: pybpftool.load(""), "path is not a usable path"),
        (lambda: pybpftool.load("x.o", section=5), "section must be a str"),  # type: ignore[arg-type]
        (lambda: pybpftool.load("x.o", prog_type=6), "prog_type must be a str"),  # type: ignore[arg-type]
        (lambda: pybpftool.load("x.o", pin_root=3), "pin_root must be a str or"),  # type: ignore[arg-type]
        (lambda: pybpftool.load("x.o", pin_root="/a\0b"), "pin_root is not a usable path"),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_done(call: object, message: str) -> None:
    with pytest.raises(pybpftool.UsageError, match=message):
        call()  # type: ignore[operator]


def test_entry_section_is_the_one_that_is_no_tail_call() -> None:
    from pybpftool.parser import parse_object

    legacy = parse_object(str(bpfobjs.build("legacy_maps", "bpfel")))
    assert api.objects.entry_section(legacy) == "classifier"  # 42/0 and 0x2a/1 are tail calls
    both = parse_object(str(bpfobjs.build("xdp_pass", "bpfel")))
    with pytest.raises(pybpftool.ObjectError, match=r"2 entry sections \(xdp, prog\)"):
        api.objects.entry_section(both)


def test_a_section_without_a_type_needs_prog_type(tmp_path: Path) -> None:
    """Both refusals come from the object alone, before any map or program is made."""
    obj = str(bpfobjs.build("legacy_maps", "bpfel"))
    with pytest.raises(pybpftool.ObjectError, match="names no program type: give one with"):
        pybpftool.load(obj)
    with pytest.raises(pybpftool.UsageError, match="unknown program type 'sched-cls'"):
        pybpftool.load(obj, prog_type="sched-cls")
    with pytest.raises(pybpftool.UsageError, match="unknown program type 'unspec'"):
        pybpftool.load(obj, prog_type="unspec")  # BPF_PROG_TYPE_UNSPEC loads nothing
    with pytest.raises(pybpftool.ObjectError, match=r"cannot open|No such file"):
        pybpftool.load(tmp_path / "missing.o")


def test_possible_cpus_reads_the_kernels_list(tmp_path: Path) -> None:
    for text, count in (("0\n", 1), ("0-3\n", 4), ("0-3,5,8-9\n", 7)):
        (tmp_path / "possible").write_text(text)
        assert api.objects.possible_cpus(str(tmp_path / "possible")) == count

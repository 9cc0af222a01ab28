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


def test_signatures_are_the_issues() -> None:
    def keywords(func: object) -> list[str]:
        params = inspect.signature(func).parameters.values()  # type: ignore[arg-type]
        return [p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY]

    assert keywords(pybpftool.load) == ["section", "prog_type", "pin_root"]
    assert keywords(pybpftool.attach_xdp) == ["mode", "replace", "netns"]
    assert keywords(pybpftool.detach_xdp) == ["netns"]
    assert keywords(pybpftool.attach_tc) == [
        "pref",
        "handle",
        "direct_action",
        "replace",
        "netns",
    ]
    assert keywords(pybpftool.detach_tc) == ["pref", "handle", "netns"]


def test_the_package_ships_its_type_hints() -> None:
    assert (ROOT / "pybpftool" / "py.typed").is_file()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "py.typed" in pyproject["tool"]["setuptools"]["package-data"]["pybpftool"]


def test_error_hierarchy() -> None:
    base = pybpftool.PyBpfError
    for name in ("UsageError", "ObjectError", "PinError", "KernelError", "NetlinkFailure"):
        assert issubclass(getattr(pybpftool, name), base), name
    assert issubclass(pybpftool.SandboxError, base)
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
    with pytest.raises(pybpftool.ObjectError, match=r"cannot open|No such file"):
        pybpftool.load(tmp_path / "missing.o")


def test_possible_cpus_reads_the_kernels_list(tmp_path: Path) -> None:
    for text, count in (("0\n", 1), ("0-3\n", 4), ("0-3,5,8-9\n", 7)):
        (tmp_path / "possible").write_text(text)
        assert api.objects.possible_cpus(str(tmp_path / "possible")) == count

"""Per-run state lives in the run's context, not in module globals: what `tc qdisc show` and
`tc filter show` selected stays selected for the later lines of one -batch (as in tc, whose
file-scope variables are never reset), and for nothing else: a second run in the same
process (a Python caller of main, a test) starts afresh.

No root needed: the netlink socket is the recorder of tests/fakenetlink.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fakenetlink import RecordingNetlink

from pybpftool.cli.common.context import named_files


@pytest.fixture(autouse=True)
def recording(monkeypatch: pytest.MonkeyPatch) -> None:
    import pybpftool.netlink

    RecordingNetlink.sent = []
    monkeypatch.setattr(pybpftool.netlink, "Netlink", RecordingNetlink)


def test_runs_do_not_share_tcs_selections(capsys: pytest.CaptureFixture[str]) -> None:
    from pybpftool.cli.tc.main import main

    assert main(["qdisc", "show", "root"]) == 0
    assert main(["qdisc", "show", "root"]) == 0  # a run of its own: nothing selected yet
    assert capsys.readouterr().err == ""


def test_a_batch_keeps_them_from_line_to_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pybpftool.cli.tc.main import main

    batch = tmp_path / "batch"
    batch.write_text("qdisc show root\nfilter show ingress\nqdisc show root\n")
    assert main(["-batch", str(batch)]) == 255  # invarg(): tc exit()s, so the batch ends
    assert capsys.readouterr().err == (
        'Error: argument "root" is wrong: parent is already specified\n'
    )


def test_named_files_are_the_existing_files_each_once(tmp_path: Path) -> None:
    obj = tmp_path / "o.o"
    obj.write_bytes(b"")
    lines = [["filter", "add", "dev", str(tmp_path), "obj", str(obj)]] * 3
    lines.append(["exec", "bpf", "graft", str(tmp_path / "gone"), "obj", str(obj)])
    assert named_files(lines) == (str(obj),)


def test_the_bpffs_work_dir_is_found_and_made_once_per_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """tc's bpf_get_work_dir() searches the mounts and makes tc/globals, xdp and ip once per
    process (bpf_mnt_cached): a -batch's later lines do neither again, and nor does a run."""
    import pybpftool.kernel.bpffs as bpffs
    from pybpftool.cli.common.context import RunContext

    calls: list[str] = []
    monkeypatch.setattr(bpffs, "ensure_mount", lambda: calls.append("mount") or "/m")
    monkeypatch.setattr(bpffs, "make_hierarchy", lambda mount: calls.append(f"make {mount}"))
    run = RunContext()
    assert run.bpffs_root(False) == "/m"  # a pinned program: the mount only
    assert [run.bpffs_root(True) for _ in range(3)] == ["/m"] * 3
    assert calls == ["mount", "make /m"]
    RunContext().bpffs_root(True)  # another run finds and makes them again
    assert calls == ["mount", "make /m", "mount", "make /m"]


def test_a_failed_bpffs_work_dir_is_tried_again_on_the_next_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pybpftool.kernel.bpffs as bpffs
    from pybpftool.cli.common.context import RunContext
    from pybpftool.errors import PinError

    outcomes = [PinError("mkdir /m/tc failed: No space left on device"), None]

    def make(mount: str) -> None:
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome

    monkeypatch.setattr(bpffs, "ensure_mount", lambda: "/m")
    monkeypatch.setattr(bpffs, "make_hierarchy", make)
    run = RunContext()
    with pytest.raises(PinError):
        run.bpffs_root(True)
    assert run.bpffs_root(True) == "/m"
    assert outcomes == []


def test_a_run_opens_one_netlink_socket_and_closes_it_when_it_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """tc's one rtnl handle serves every line of a -batch: so does the run's socket."""
    import pybpftool.netlink
    from pybpftool.cli.common.context import RunContext

    opened: list[Sockets] = []

    class Sockets(RecordingNetlink):
        def __init__(self) -> None:
            self.closed = False
            opened.append(self)

        def __exit__(self, *exc: object) -> None:
            self.closed = True

    monkeypatch.setattr(pybpftool.netlink, "Netlink", Sockets)
    run = RunContext()
    assert run.netlink() is run.netlink()
    assert len(opened) == 1 and not opened[0].closed
    run.restore()
    assert opened[0].closed
    assert run.netlink() is not opened[0]  # a later use (none in a run) opens another


def test_a_batch_of_filter_lines_uses_one_socket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pybpftool.netlink
    from pybpftool.cli.tc.main import main

    opened: list[object] = []

    class Sockets(RecordingNetlink):
        def __init__(self) -> None:
            opened.append(self)

    monkeypatch.setattr(pybpftool.netlink, "Netlink", Sockets)
    batch = tmp_path / "batch"
    batch.write_text("filter del dev v0 ingress pref 1\n" * 3)
    assert main(["-batch", str(batch)]) == 0
    assert len(opened) == 1
    assert len(RecordingNetlink.sent) == 3


def test_an_object_put_in_place_of_another_is_parsed_anew(tmp_path: Path) -> None:
    """Between two lines a build may rename a new object over the old one, or move the
    symlink a line names: same path, same size and maybe the same mtime, another file."""
    import os
    import shutil

    import bpfobjs

    from pybpftool.cli.common.context import RunContext

    legacy, btf = bpfobjs.build("legacy_maps", "bpfel"), bpfobjs.build("btf_maps", "bpfel")
    obj, link = tmp_path / "o.o", tmp_path / "link.o"
    shutil.copy(legacy, obj)
    link.symlink_to(legacy)
    run = RunContext()
    first, via_link = run.parse(str(obj)), run.parse(str(link))
    stat = os.stat(obj)
    new = tmp_path / "new.o"
    shutil.copy(btf, new)
    os.utime(new, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(new, obj)  # another inode at the same path, with the same mtime
    link.unlink()
    link.symlink_to(btf)
    assert run.parse(str(obj)) is not first
    assert [m.name for m in run.parse(str(obj)).maps] != [m.name for m in first.maps]
    assert run.parse(str(link)) is not via_link

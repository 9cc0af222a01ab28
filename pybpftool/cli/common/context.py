"""context: one run of a front end (pyip, pytc, pybpftool): what it may do to the process it
runs in, and its state. Made once per run by the front end and passed down to the commands
(a run is one command line, or every line of a -batch).

The process: a console script (their `console()` entry points) runs one command in a
process of its own: that process confines itself with Landlock before it reads an object,
and `-n NAME` moves it into the namespace for the rest of its life, as iproute2 does.
`main(argv)` called in-process (tests, a Python program driving the CLI) changes neither for
good: nothing is confined, and the thread returns to its own network namespace when the run
ends.

The state: what iproute2 keeps in file-scope variables and what a -batch should pay for once:
- the selections of `tc filter show`/`chain show` and `tc qdisc show`, which tc never
  resets, so a later line of the same batch still leaves them out (or refuses a second one);
- the files the run's lines name, readable once the first load has confined the process
  (a filter line's objects and its actions' alike);
- the sandbox policy, built once per run from those files (a -batch used to rebuild it from
  every earlier line's files on every line: quadratic in the number of lines);
- the parsed objects and the indexed CO-RE target BTFs, kept while their files stay the same
  (N lines attaching one object parse it once; each line still loads its own maps and
  program);
- the bpffs mount point and its tc/globals hierarchy, found and made once per run, as tc's
  bpf_get_work_dir() does once per process (its bpf_mnt_cached: a `tc -batch` searches the
  mounts and makes the folders and links on its first loading line only);
- the rtnetlink socket of its filter requests, opened on the first and closed when the run
  ends, as tc's one rtnl handle serves a whole -batch (pyroute2 still encodes every line's
  request).
Plain classes: a cold `pyip -V` must not pay for dataclasses.
"""

from __future__ import annotations

import os

from pybpftool.cli.common.grammar import GlobalOptions

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up)
if TYPE_CHECKING:
    from pybpftool.btf.target import TargetBtf
    from pybpftool.loader.programs import ProgramMemo
    from pybpftool.netlink import Netlink
    from pybpftool.sandbox import Policy
    from pybpftool.spec import ObjectSpec

    FileKey = tuple[str, int, int, int, int]


class FilterListed:
    """FilterListed: tc_filter.c's file-scope filter_* variables. `filter show` and `chain
    show` set parent, prio, protocol and chain, `get` and a shared-block listing the block;
    print_filter() leaves out what they name. As in tc they outlive a -batch line."""

    __slots__ = ("block", "chain", "parent", "prio", "protocol")

    def __init__(self) -> None:
        self.parent = self.prio = self.protocol = self.block = 0
        self.chain: int | None = None


class QdiscListed:
    """QdiscListed: tc_qdisc.c's file-scope filter_ifindex, filter_parent and filter_handle:
    set by `qdisc show`, never reset, so (as in tc) they carry over to the next -batch line."""

    __slots__ = ("handle", "ifindex", "parent")

    def __init__(self) -> None:
        self.ifindex = self.parent = self.handle = 0


class RunContext:
    """RunContext: one run's process effects, options and state (see the module's
    docstring)."""

    __slots__ = (
        "_hierarchy",
        "_home",
        "_mount",
        "_netlink",
        "_parsed",
        "_program_memo",
        "_settled",
        "_targets",
        "console",
        "filters",
        "inputs",
        "opts",
        "policy",
        "qdiscs",
    )

    def __init__(self, console: bool = False, opts: GlobalOptions | None = None) -> None:
        self.console = console  # a console script's own process: confine, stay in -n's netns
        self._home: int | None = None  # the netns fd of the thread before -n moved it
        self.opts = opts if opts is not None else GlobalOptions()
        self.inputs: tuple[str, ...] = ()
        self.filters = FilterListed()
        self.qdiscs = QdiscListed()
        self.policy: Policy | None = None
        self._parsed: dict[FileKey, ObjectSpec] = {}
        self._targets: dict[FileKey, TargetBtf] = {}
        self._program_memo: ProgramMemo | None = None
        self._settled = False  # the sandbox would change nothing any more (confine)
        self._mount: str | None = None  # the bpffs mount point, once found (or mounted)
        self._hierarchy = False  # its tc/globals folders and xdp, ip links made
        self._netlink: Netlink | None = None

    @property
    def confines(self) -> bool:
        """confines: loads confine the process with Landlock (console scripts only)."""
        return self.console

    def name_files(self, lines: list[list[str]]) -> None:
        """name_files: the run's command lines, before the first runs: every existing file
        they name stays readable once the first load has confined the process."""
        self.inputs = named_files(lines)

    def switch_netns(self, name: str) -> None:
        """switch_netns: `-n NAME`: the calling thread enters namespace NAME (only the network
        namespace: the host's bpffs and pins stay visible)."""
        from pybpftool.kernel.netns import enter_netns, thread_netns

        if self._home is None:
            # in-process: where restore() returns to; a console script stays in NAME, but
            # opens the audit socket here when it confines (confine, _open_audit_at_home)
            self._home = thread_netns()
        enter_netns(name)

    def netlink(self) -> Netlink:
        """netlink: the run's rtnetlink socket, opened in the namespace the run is in on the
        first call; restore() closes it."""
        if self._netlink is None:
            import pybpftool.netlink

            self._netlink = pybpftool.netlink.Netlink()
        return self._netlink

    def restore(self) -> None:
        """restore: the run's socket closed, an in-process run's thread back in its own
        network namespace (a console script's stays in -n's)."""
        if self._netlink is not None:
            nl, self._netlink = self._netlink, None
            nl.__exit__(None, None, None)
        if self._home is None or self.console:
            return
        from pybpftool.kernel.netns import return_to_netns

        home, self._home = self._home, None
        try:
            return_to_netns(home)
        finally:
            os.close(home)

    def confine(self, pin_root: str, named: list[str]) -> None:
        """confine: enter the sandbox: read the run's files and `named` (what the first load
        reads, say an object named by a path that is no regular file, which the kernel then
        refuses in its own words), create and remove only beneath `pin_root`. The policy is
        built on the first call that needs one, none when the sandbox would change nothing
        (sandbox.settled: off, confined already, `auto` without Landlock)."""
        if self._settled:
            return
        from pybpftool import sandbox
        from pybpftool.pinning import PINNING_DB

        if sandbox.settled():
            self._settled = True  # Landlock domains only narrow: settled for the run
            return
        if self.policy is None:
            inputs = dict.fromkeys([*self.inputs, *named, PINNING_DB])  # each once
            self.policy = sandbox.command_policy(list(inputs), pin_root)
        if self._home is not None:
            self._open_audit_at_home()
        sandbox.confine(self.policy)

    def bpffs_root(self, hierarchy: bool) -> str:
        """bpffs_root: the bpffs mount point (found, or mounted, on the run's first call) and,
        with `hierarchy`, iproute2's folders and links beneath it, made on the first call
        that asks: later lines of a -batch neither search nor make them again, as tc's do not.
        A call that fails keeps nothing: the next line tries again."""
        from pybpftool.kernel.bpffs import ensure_mount, make_hierarchy

        if self._mount is None:
            self._mount = ensure_mount()
        if hierarchy and not self._hierarchy:
            make_hierarchy(self._mount)
            self._hierarchy = True
        return self._mount

    def _open_audit_at_home(self) -> None:
        """_open_audit_at_home: the sandbox's audit reader, opened in the namespace the
        process started in (audit multicast exists only in the initial one) by the first
        load of a run that `-n` moved: a command that never confines (every show command)
        neither imports the sandbox nor opens the audit socket."""
        from pybpftool.kernel.netns import in_netns_fd
        from pybpftool.sandbox import open_audit_early

        assert self._home is not None
        in_netns_fd(self._home, open_audit_early, "initial")

    def parse(self, path: str) -> ObjectSpec:
        """parse: the ObjectSpec of `path`, parsed once per run while the file stays the same."""
        from pybpftool.parser import parse_object

        key = _file_key(path)
        if key is None:
            return parse_object(path)  # let the parser report the problem in its words
        spec = self._parsed.get(key)
        if spec is None:
            spec = self._parsed[key] = parse_object(path)
        return spec

    def program_memo(self) -> ProgramMemo:
        """program_memo: the run's memo of what loads derive from a parsed program alone
        (its func and line info), made by the first load."""
        if self._program_memo is None:
            from pybpftool.loader.programs import ProgramMemo

            self._program_memo = ProgramMemo()
        return self._program_memo

    def open_target(self, path: str) -> TargetBtf:
        """open_target: the CO-RE target BTF at `path`, read and indexed once per run while
        the file stays the same (the kernel's does)."""
        from pybpftool.loader.targetbtf import open_target

        key = _file_key(path)
        if key is None:
            return open_target(path)  # let it report the problem in its words
        target = self._targets.get(key)
        if target is None:
            target = self._targets[key] = open_target(path)
        return target


def named_files(lines: list[list[str]]) -> tuple[str, ...]:
    """named_files: the existing files the lines name, each once, in order of first mention
    (each distinct word is looked at once, however many lines repeat it)."""
    words = dict.fromkeys(word for line in lines for word in line)
    return tuple(word for word in words if os.path.isfile(word))


def _file_key(path: str) -> FileKey | None:
    """_file_key: what says a file is still the one read: the path as named, and the
    device, inode, size and mtime it leads to (another file put there, by a rename or a
    write, has another key); None when it cannot be looked at. Two names of one file are
    two keys: each is parsed once."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (path, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)

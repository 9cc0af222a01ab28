"""Start-up budget: each command imports only the heavy packages it uses (issue 8, item 1).

pyroute2 (~100 ms even through the stub), click (~65 ms), rich and pyelftools (~90 ms each)
must not creep into commands that do not need them.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

HEAVY = ("pyroute2", "click", "rich", "elftools")
PROBE = """
import sys
from pybpftool.cli.{module}.main import main
try:
    main({argv!r})
except SystemExit:
    pass
print("HEAVY:" + ",".join(sorted({{m.split(".")[0] for m in sys.modules}} & set({heavy!r}))))
"""


def heavy_imports(module: str, argv: list[str]) -> set[str]:
    code = PROBE.format(module=module, argv=argv, heavy=HEAVY)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    marked = [line for line in out.stdout.splitlines() if line.startswith("HEAVY:")]
    assert marked, out.stderr
    return set(filter(None, marked[-1].removeprefix("HEAVY:").split(",")))


@pytest.mark.parametrize(
    ("module", "argv", "allowed"),
    [
        ("ip", ["-V"], set()),
        ("tc", ["-V"], set()),
        ("ip", ["help"], set()),
        ("tc", ["help"], set()),
        ("ip", ["link", "set", "dev", "v0", "xdp", "bogus", "x"], set()),  # parse error
        (
            "tc",
            ["filter", "add", "dev", "nope", "ingress", "bpf", "da", "obj", "x.o"],
            {"pyroute2"},
        ),
        ("bpftool", ["--version"], {"click"}),
    ],
)
def test_commands_import_only_what_they_use(
    module: str, argv: list[str], allowed: set[str]
) -> None:
    assert heavy_imports(module, argv) <= allowed


def test_netlink_names_load_on_first_use() -> None:
    """pybpftool.netlink resolves its names lazily: the constants alone import nothing else,
    and every exported name reaches its module."""
    code = (
        "import sys\n"
        "import pybpftool.netlink.uapi\n"
        "print(sorted(m for m in sys.modules if m.startswith('pybpftool.netlink')))\n"
        "import pybpftool.netlink as nl\n"
        "print(all(getattr(nl, name).__module__.startswith('pybpftool.netlink.') "
        "for name in nl.__all__), sorted(nl.__all__) == sorted(nl._HOMES))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == [
        "['pybpftool.netlink', 'pybpftool.netlink.uapi']",
        "True True",
    ]


@pytest.mark.parametrize("module", ["ip", "tc"])
def test_version_does_not_import_typing(module: str) -> None:
    """`-V` is the cheapest command scripts run: typing (~3 ms) stays out of it."""
    code = PROBE.format(module=module, argv=["-V"], heavy=("typing",))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.splitlines()[-1] == "HEAVY:", out.stderr


@pytest.mark.parametrize("tool", ["pyip", "pytc"])
def test_the_console_scripts_version_does_not_import_typing(tool: str) -> None:
    """The same through the installed script, whose console() does more than main() (the
    pyroute2 cold-start stub): Python's import profile lists every module it imported.
    `-V` then costs about what `python -c pass` does (benchmarks/bench_speed.py)."""
    from scripts import BIN

    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    out = subprocess.run([str(BIN / tool), "-V"], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in out.stderr.splitlines()}
    assert "pybpftool.cli.common.coldstart" in imported  # the profile covers the console path
    # nor re (pip's entry-point wrapper imported it), enum, or the collections package
    assert imported & {"typing", "re", "enum", "collections"} == set()


def test_import_pybpftool_imports_nothing_heavy() -> None:
    """A Python caller pays for nothing it does not use: `import pybpftool`, its version and
    its error classes bring in none of pyroute2, click, rich (or pyelftools); the API's
    functions resolve without them too (pyroute2 comes with the first netlink call)."""
    code = (
        "import sys\n"
        "import pybpftool\n"
        "heavy = ('pyroute2', 'click', 'rich', 'elftools')\n"
        "def seen(): return sorted({m.split('.')[0] for m in sys.modules} & set(heavy))\n"
        "print('import', seen())\n"
        "pybpftool.__version__, pybpftool.PyBpfError, pybpftool.VerifierError\n"
        "print('errors', seen())\n"
        "for name in pybpftool.__all__: getattr(pybpftool, name)\n"
        "print('names', seen())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["import []", "errors []", "names []"]

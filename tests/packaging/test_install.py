"""An installed pybpftool is a real tool: the sdist, and the wheel built from it, install the
man pages where `man` finds them for the environment, and the commands run without pyelftools.

The test builds both (python -m build: the sdist, then the wheel from the sdist, in isolated
build environments), installs the wheel with --no-deps into a fresh venv, and gives that venv
this venv's runtime packages minus pyelftools (a path entry to links to them), so it needs no
network beyond the build backend, which pip caches.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import bpfobjs
import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = ("pyip", "pytc", "pybpftool")
LEFT_OUT = ("elftools", "pyelftools", "pybpftool", "__editable__", "_pybpftool")
NOT_SOURCES = (".venv", ".git", "build", "dist", "__pycache__", "*.egg-info", "*.o", ".*_cache")


def build(tmp: Path) -> tuple[Path, Path]:
    """build: (sdist, wheel) of a copy of the checkout, the wheel built from the sdist."""
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*NOT_SOURCES))
    dist = tmp / "dist"
    done = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(dist), str(source)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Building wheel from sdist" in done.stdout + done.stderr
    return next(dist.glob("*.tar.gz")), next(dist.glob("*.whl"))


def fresh_venv(tmp: Path) -> Path:
    """fresh_venv: a new venv that sees this venv's installed packages except pyelftools
    and pybpftool itself."""
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    deps = tmp / "deps"
    deps.mkdir()
    ours = Path(sysconfig.get_paths()["purelib"])
    for entry in ours.iterdir():
        if not entry.name.startswith(LEFT_OUT) and entry.suffix != ".pth":
            (deps / entry.name).symlink_to(entry)
    site = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(site) / "deps.pth").write_text(f"{deps}\n")
    return venv


class Installed:
    """Installed: the sdist and wheel built from a copy of the checkout, and a fresh venv
    with the wheel installed."""

    def __init__(self, tmp: Path) -> None:
        self.sdist, self.wheel = build(tmp)
        self.venv = fresh_venv(tmp)
        install = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "--python",
                str(self.venv / "bin" / "python"),
                "install",
                "--no-deps",
                "--no-index",
                "--disable-pip-version-check",
                "-q",
                str(self.wheel),
            ],
            capture_output=True,
            text=True,
        )
        assert install.returncode == 0, install.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    return Installed(tmp_path_factory.mktemp("install"))


def man_w(page: str, **env: str) -> str:
    done = subprocess.run(["man", "-w", page], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_sdist_and_wheel_install_man_pages_where_man_finds_them(installed: Installed) -> None:
    sdist, wheel, venv = installed.sdist, installed.wheel, installed.venv
    with tarfile.open(sdist) as tar:
        names = tar.getnames()
        info = tar.extractfile(next(n for n in names if n.endswith("/PKG-INFO")))
        assert info is not None
        description = info.read().decode()
    assert {f"{sdist.name[:-7]}/man/{page}.8" for page in PAGES} <= set(names)
    assert "man pyip" in description and "man -l" not in description
    with zipfile.ZipFile(wheel) as whl:
        data = {n for n in whl.namelist() if ".data/data/share/man/man8/" in n}
        requires = [
            line.split()[1]
            for line in whl.read(next(n for n in whl.namelist() if n.endswith("METADATA")))
            .decode()
            .splitlines()
            if line.startswith("Requires-Dist:") and "extra ==" not in line
        ]
    assert len(data) == 3
    assert sorted(r.split(">")[0].split("<")[0].split("=")[0] for r in requires) == [
        "click",
        "pyroute2",
        "rich",
    ]

    man8 = venv / "share" / "man" / "man8"
    for page in PAGES:
        assert (man8 / f"{page}.8").read_bytes() == (ROOT / "man" / f"{page}.8").read_bytes()
        # After activating the venv (its bin first on PATH), man derives share/man from it.
        activated = man_w(page, PATH=f"{venv / 'bin'}:/usr/bin:/bin")
        assert activated == str(man8 / f"{page}.8")
        assert man_w(page, MANPATH=str(venv / "share" / "man"), PATH="/usr/bin:/bin") == activated


def test_the_installed_commands_run_without_pyelftools(installed: Installed) -> None:
    venv = installed.venv
    python = str(venv / "bin" / "python")
    probe = (
        "import importlib.util as u, pybpftool; print(pybpftool.__file__, u.find_spec('elftools'))"
    )
    where, spec = subprocess.run(
        [python, "-c", probe], capture_output=True, text=True, check=True, cwd=venv
    ).stdout.split()  # cwd: `python -c` looks in the current folder first
    assert where.startswith(str(venv)) and spec == "None"
    obj = str(bpfobjs.build("legacy_maps"))
    shown = subprocess.run(
        [str(venv / "bin" / "pybpftool"), "object", "show", "--json", obj],
        capture_output=True,
        text=True,
        cwd=venv,
    )
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["maps"]
    for tool in ("pyip", "pytc"):
        version = subprocess.run(
            [str(venv / "bin" / tool), "-V"], capture_output=True, text=True, cwd=venv
        )
        assert version.returncode == 0 and "pybpftool" in version.stdout, version.stderr


def test_the_wheel_ships_the_python_api_with_its_type_hints(installed: Installed) -> None:
    """PEP 561: py.typed is in the wheel and installed beside the package, whose API
    resolves from the installed copy."""
    with zipfile.ZipFile(installed.wheel) as whl:
        assert "pybpftool/py.typed" in whl.namelist()
    probe = (
        "import pathlib, pybpftool\n"
        "print(pathlib.Path(pybpftool.__file__).with_name('py.typed').is_file())\n"
        "print(all(getattr(pybpftool, name).__doc__ for name in pybpftool.__all__))\n"
    )
    python = str(installed.venv / "bin" / "python")
    done = subprocess.run([python, "-c", probe], capture_output=True, text=True, cwd=installed.venv)
    assert done.stdout.split() == ["True", "True"], done.stderr

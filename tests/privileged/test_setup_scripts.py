"""The scripts a new user runs first: they say "must be run as root" (and exit 1) when run
as another user, instead of failing half-way on a root-owned .venv; and .ci/setup shows pip's
progress instead of minutes of silence.

The first run's pip is stood in for by a fake `python3 -m venv` whose pip prints what a real
one does, so the test needs no network and takes a moment. The man pages are linked into
.venv where `man` looks (an editable install leaves them out).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]


@pytest.mark.parametrize("script", ["examples/demo.sh", "tests/run.sh", ".ci/setup", ".ci/run"])
def test_scripts_needing_root_say_so(script: str) -> None:
    done = subprocess.run(
        [*NOBODY, "bash", str(ROOT / script)], capture_output=True, text=True, cwd="/"
    )
    assert done.returncode == 1
    assert "must be run as root" in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr  # that line only: nothing was tried
    assert done.stdout == ""


FAKE_PYTHON3 = """#!/bin/sh
# python3 -m venv DIR: a venv whose pip prints what a first install prints
mkdir -p "$3/bin"
printf '#!/bin/sh\\nexit 0\\n' > "$3/bin/python"
cat > "$3/bin/pip" <<'PIP'
#!/bin/sh
echo "pip $*"
echo "Collecting click>=8.1"
echo "Installing collected packages: click, pyroute2, rich, pybpftool"
echo "Successfully installed pybpftool-0.1.0"
PIP
chmod +x "$3/bin/python" "$3/bin/pip"
"""


def test_setup_shows_what_pip_does(tmp_path: Path) -> None:
    (tmp_path / ".ci").mkdir()
    shutil.copy(ROOT / ".ci" / "setup", tmp_path / ".ci" / "setup")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(ROOT / "man", tmp_path / "man")
    fake = tmp_path / "fakebin"
    fake.mkdir()
    (fake / "python3").write_text(FAKE_PYTHON3)
    (fake / "python3").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", str(tmp_path / ".ci" / "setup")], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0].startswith("setup: creating .venv and installing pybpftool")
    assert lines[1].startswith("pip install ") and " -q" not in lines[1]
    assert "Collecting click>=8.1" in lines and "Successfully installed pybpftool-0.1.0" in lines
    assert lines[-1] == "setup: .venv ready"
    assert done.stdout == ""  # progress goes to stderr: the demo's own output stays clean
    assert (tmp_path / ".venv" / ".installed").exists()
    # man finds the checkout's pages once .venv/bin is on PATH, as after a real install
    found = subprocess.run(
        ["man", "-w", "pytc"],
        capture_output=True,
        text=True,
        env={"PATH": f"{tmp_path / '.venv' / 'bin'}:/usr/bin:/bin"},
    )
    link = tmp_path / ".venv" / "share" / "man" / "man8" / "pytc.8"
    assert Path(found.stdout.strip()).resolve() == (tmp_path / "man" / "pytc.8").resolve()
    assert link.is_symlink()  # an edit of man/pytc.8 shows at once
    again = subprocess.run(
        ["bash", str(tmp_path / ".ci" / "setup")], capture_output=True, text=True, env=env
    )
    assert again.returncode == 0 and again.stderr == ""  # set up already: quiet

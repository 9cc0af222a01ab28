"""The differential fuzzer in CI: the fixed scenarios and a few hundred seeded random lines
through ip/tc 6.1 and pyip/pytc on twin namespaces; every difference must be one of the
named deviations, and each of those must be written in the man pages' DIFFERENCES sections.

More lines on demand: `python tests/differential/fuzz_cli.py --count 2000 --seed S`.
PYBPFTOOL_FUZZ_SEED and PYBPFTOOL_FUZZ_COUNT change this test's seed and line count.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from differential import fuzz_cli

ROOT = Path(__file__).resolve().parents[2]
SEED = int(os.environ.get("PYBPFTOOL_FUZZ_SEED", "18"))
COUNT = int(os.environ.get("PYBPFTOOL_FUZZ_COUNT", "220"))


def _differences_section(page: str) -> str:
    text = (ROOT / "man" / page).read_text()
    found = re.search(r"^\.SH DIFFERENCES FROM \S+\n(.*?)(?=^\.SH )", text, re.M | re.S)
    assert found, f"man/{page} has no DIFFERENCES section"
    return found[1]


def test_every_deviation_is_documented() -> None:
    sections = _differences_section("pyip.8") + _differences_section("pytc.8")
    for deviation in fuzz_cli.DEVIATIONS:
        assert f"deviation: {deviation.name}" in sections.replace("\\-", "-"), deviation.name


def test_command_lines_behave_as_iproute2(_need_root: None) -> None:
    results = fuzz_cli.fuzz(COUNT, SEED, f"t{os.getpid()}")
    print(fuzz_cli.summary(results))
    unexcused = [r for r in results if r.differing and not r.deviation]
    assert not unexcused, "\n\n".join(fuzz_cli.describe(r) for r in unexcused[:20])
    assert sum(r.line.category.startswith("fixed:") for r in results) > 80

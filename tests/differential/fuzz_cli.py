"""fuzz_cli: a grammar-based differential fuzzer of pyip/pytc against ip/tc 6.1.

Seeded scenarios of command lines (fuzz_grammar) run through iproute2 on one twin and
through pybpftool on the other (fuzz_twins). For every line the exit status, stdout, stderr
and the kernel state after it (XDP mode and program name/tag per link, qdiscs, filters with
their flags, chains, mirred actions, the pins and folders in the bpffs, the slots of a pinned
program array) must be the same. A difference is excused only by one of the NAMED deviations
below, each of which is listed in the differences sections of man/pyip.8 and man/pytc.8
(test_fuzz_cli checks that too); anything else is a failure.

    python tests/differential/fuzz_cli.py --count 2000 --seed 7     # as root, from the venv

prints a summary by category (lines, identical, excused by which deviation, differing) and
every unexcused difference with what each side printed.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make tests/ importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from differential.fuzz_fixed import fixed_scenarios
from differential.fuzz_grammar import Grammar, prelude_lines, scenario
from differential.fuzz_lines import Line
from differential.fuzz_twins import (
    Outcome,
    Side,
    Twins,
    kernel_state,
    normalise,
    reset_side,
    run,
)

ASPECTS = ("status", "stdout", "stderr", "state")


@dataclass
class Result:
    line: Line
    text: str  # the line as run (placeholders filled for iproute2's side)
    theirs: Outcome
    ours: Outcome
    differing: tuple[str, ...]
    deviation: str | None = None
    state_diff: list[str] = field(default_factory=list)
    state_keys: set[str] = field(default_factory=set)
    bpffs: tuple[list[str], list[str]] = ([], [])


@dataclass(frozen=True)
class Deviation:
    """Deviation: a deliberate, documented difference: the aspects of a line it may explain
    (`excuses` returns those it does explain for a result, none if it does not apply)."""

    name: str
    excuses: Callable[[Result], set[str]]


def _last_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()][-1:]


LOAD_FAILURE = re.compile(
    r"libbpf|ERROR: opening BPF object|Unable to load program|Cannot initialize ELF context"
    r"|object file doesn't contain|Error fetching program/map"
    r"|Cannot connect to"  # the maps of a load handed to its `export` socket
)


def _loader_text(r: Result) -> set[str]:
    """iproute2's loader is libbpf (its log lines), ours is our own: on success we print
    iproute2's own loader report; on failure the last line must agree where it is
    iproute2's own (`Unable to load program`), and may differ where it is libbpf's."""
    if "libbpf" not in r.theirs.stderr and "ERROR: opening BPF object" not in r.theirs.stderr:
        return set()
    last = _last_lines(r.theirs.stderr)
    if r.theirs.status == 0:
        # libbpf's debug log or warnings; ours: nothing, or iproute2's own verbose report
        quiet = not r.ours.stderr.strip() or "Verifier analysis:" in r.ours.stderr
        return {"stderr"} if quiet else set()
    if last == _last_lines(r.ours.stderr):
        return {"stderr"}
    return {"stderr"} if last and last[0].startswith("libbpf: ") else set()


def _version_text(r: Result) -> set[str]:
    """-V names pybpftool and its version (and no libbpf): it is not iproute2."""
    if r.ours.stdout.startswith(f"{r.line.tool} utility, pybpftool-"):
        return {"stdout"}
    return set()


def _escaped_names(r: Result) -> set[str]:
    """Terminal controls in names from the command line, objects or the kernel are shown as
    escapes by pyip/pytc; iproute2 prints them raw."""
    from pybpftool.cli.common.escape import terminal_safe

    def safe(text: str) -> str:
        return "\n".join(terminal_safe(part) for part in text.split("\n"))

    return {a for a in ("stdout", "stderr") if safe(getattr(r.theirs, a)) == getattr(r.ours, a)}


def _no_load_for_delete(r: Result) -> set[str]:
    """delete/get/show never load the object named on their line (iproute2 loads it, pins
    its maps, hands them to its `export` socket, then ignores it): the pins may differ, and
    iproute2 may fail in the load or the export."""
    words = [w for w in r.line.words if not w.startswith("-")]
    if r.line.tool != "tc" or len(words) < 2 or words[1] not in READING:
        return set()
    if not OBJ_WORDS & set(words):
        return set()
    if LOAD_FAILURE.search(r.theirs.stderr):
        return {"state", "status", "stderr"}
    return {"state"}


def _rollback(r: Result) -> set[str]:
    """A failed command leaves no new pin behind (iproute2 leaves the pins of a load whose
    attach then failed): only pins may be missing on our side, never extra."""
    if r.theirs.status == 0 or r.ours.status == 0 or not r.state_keys:
        return set()
    if r.state_keys != {"bpffs"}:
        return set()
    ours, theirs = set(r.bpffs[1]), set(r.bpffs[0])
    return {"state"} if ours <= theirs else set()


def _owner_check(r: Result) -> set[str]:
    """The loader refuses to reuse a pinned program array owned by another program type (tc
    reuses it and fails on the update): the same status, our own message."""
    if " - Owner type:" in r.ours.stderr and r.theirs.status == r.ours.status:
        return {"stderr"}
    return set()


def _not_implemented(r: Result) -> set[str]:
    """What pybpftool leaves to iproute2 (non-BPF link options, other objects) is refused
    with a message naming it: see NOT YET IMPLEMENTED."""
    refused = re.search(
        r"not (implemented|handled) by py(ip|tc)|not decoded by pytc", r.ours.stderr + r.ours.stdout
    )
    return set(ASPECTS) if refused else set()


def _vrf_exec_in_batch(r: Result) -> set[str]:
    """ip's `vrf exec` forks before it enters the VRF; when that fails, the child returns
    into the -batch loop instead of exiting, so ip runs the rest of the batch twice (the
    child's run, then the parent's). pyip reports the failure once and goes on once."""
    if r.line.batch is None or "vrf exec" not in r.line.batch:
        return set()
    failed = "Invalid VRF name\n"
    if failed not in r.ours.stderr:
        return set()
    rest = r.ours.stderr[r.ours.stderr.index(failed) + len(failed) :]
    excused = {"stderr"} if r.theirs.stderr == r.ours.stderr + rest else set()
    extra = r.theirs.stdout[len(r.ours.stdout) :]
    if r.theirs.stdout.startswith(r.ours.stdout) and r.ours.stdout.endswith(extra):
        excused.add("stdout")
    return excused


READING = {"del", "delete", "get", "show", "ls", "list"}
OBJ_WORDS = {"obj", "object-file", "object", "o"}

DEVIATIONS = (
    Deviation("loader-text", _loader_text),
    Deviation("version-text", _version_text),
    Deviation("escaped-names", _escaped_names),
    Deviation("no-load-for-delete", _no_load_for_delete),
    Deviation("rollback", _rollback),
    Deviation("owner-check", _owner_check),
    Deviation("not-implemented", _not_implemented),
    Deviation("vrf-exec-in-batch", _vrf_exec_in_batch),
)


def excuse(result: Result) -> str | None:
    """excuse: the deviations that together explain every differing aspect (names joined
    with +), or None when some aspect is left unexplained."""
    names = []
    left = set(result.differing)
    for deviation in DEVIATIONS:
        explained = deviation.excuses(result) & left
        if explained:
            names.append(deviation.name)
            left -= explained
    return "+".join(names) if not left else None


@dataclass
class Fuzzer:
    twins: Twins
    objects: dict[str, str]
    workdir: Path
    results: list[Result] = field(default_factory=list)
    pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(2))

    def fill(self, side: Side, line: Line) -> tuple[list[str], str | None]:
        values = {**self.objects, "mnt": side.mnt, "batch": str(self.workdir / side.name / "batch")}
        words = [w.format_map(values) if "{" in w else w for w in line.words]
        if line.batch is not None:
            folder = self.workdir / side.name
            folder.mkdir(exist_ok=True)
            (folder / "batch").write_text(_fill(line.batch, values))
        stdin = _fill(line.stdin, values) if line.stdin is not None else None
        return [line.tool, *words], stdin

    def _run_side(self, side: Side, line: Line) -> tuple[Outcome, dict[str, object] | None]:
        """_run_side: the line on one side, its output normalised, and the state after it."""
        words, stdin = self.fill(side, line)
        outcome = run(side, words, stdin, line.tty)
        batch = str(self.workdir / side.name / "batch")
        shown = Outcome(
            outcome.status,
            normalise(side, outcome.stdout).replace(batch, "BATCH"),
            normalise(side, outcome.stderr).replace(batch, "BATCH"),
        )
        return shown, (None if _reads_only(line) else kernel_state(side))

    def run_line(self, line: Line, record: bool = True) -> Result:
        """run_line: the line on both sides at once (they share nothing), then compared."""
        (theirs, state_t), (ours, state_o) = self.pool.map(
            lambda side: self._run_side(side, line), self.twins.sides
        )
        differing = [a for a in ASPECTS[:3] if getattr(theirs, a) != getattr(ours, a)]
        if state_t != state_o:
            differing.append("state")
        text = " ".join(self.fill(self.twins.theirs, line)[0])
        result = Result(
            line, text, theirs, ours, tuple(differing), state_diff=_state_diff(state_t, state_o)
        )
        if state_t is not None and state_o is not None:
            result.state_keys = {k for k in state_t if state_t[k] != state_o.get(k)}
            result.bpffs = (state_t["bpffs"], state_o["bpffs"])  # type: ignore[assignment]
        if differing:
            result.deviation = excuse(result)
        if record:
            self.results.append(result)
        return result

    def reset(self) -> None:
        list(self.pool.map(reset_side, self.twins.sides))

    def run_scenario(self, category: str, lines: list[Line], replay: bool = False) -> None:
        """run_scenario: the prelude, then `lines`. A difference leaves the twins apart: they
        start again from the prelude, so the next lines are compared on their own; with
        `replay` (a fixed scenario, whose lines build on each other) the lines before it
        are run again too, unrecorded."""
        self.reset()
        for line in prelude_lines(category):
            self.run_line(line)
        for done, line in enumerate(lines):
            result = self.run_line(line)
            if result.differing:
                self.reset()
                for again in [*prelude_lines(category), *(lines[:done] if replay else [])]:
                    self.run_line(again, record=False)


def _fill(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


def _reads_only(line: Line) -> bool:
    words = [w for w in line.words if not w.startswith("-")]
    return (
        line.category != "prelude"
        and len(words) >= 2
        and words[1] in ("show", "list", "ls", "lst", "help", "identify", "pids")
    )


def _state_diff(a: dict[str, object] | None, b: dict[str, object] | None) -> list[str]:
    if a is None or b is None:
        return []
    return [f"{key}:\n  ip: {a[key]!r}\n  py: {b.get(key)!r}" for key in a if a[key] != b.get(key)]


def build_objects() -> dict[str, str]:
    import bpfobjs

    host = "bpfel" if sys.byteorder == "little" else "bpfeb"
    return {
        name: str(bpfobjs.build(src, host))
        for name, src in (("xdp", "xdp_pass"), ("tc", "twin_btf"), ("graft", "graft"))
    }


def fuzz(
    count: int, seed: int, tag: str, only: list[str] | None = None, fixed: bool = True
) -> list[Result]:
    """fuzz: the fixed scenarios (fuzz_fixed), then `count` random lines (preludes not
    counted) from seed `seed`, through fresh twins."""
    py_bin = Path(sys.executable).parent
    rng = Grammar(seed)
    twins = Twins(tag, py_bin)
    try:
        with tempfile.TemporaryDirectory(prefix="pybpftool-fuzz-") as work:
            fuzzer = Fuzzer(twins, build_objects(), Path(work))
            try:
                for name, lines in fixed_scenarios() if fixed else []:
                    fuzzer.run_scenario(name, lines, replay=True)
                fuzzed = 0
                while fuzzed < count:
                    category, lines = scenario(rng, only)
                    lines = lines[: count - fuzzed]
                    fuzzer.run_scenario(category, lines)
                    fuzzed += len(lines)
            finally:
                fuzzer.pool.shutdown()
            return fuzzer.results
    finally:
        twins.close()


def summary(results: list[Result]) -> str:
    """summary: lines, identical, excused (by deviation) and differing, per category."""
    rows: dict[str, Counter[str]] = defaultdict(Counter)
    for r in results:
        row = rows[r.line.category]
        row["lines"] += 1
        if not r.differing:
            row["identical"] += 1
        elif r.deviation:
            row["excused"] += 1
            for name in r.deviation.split("+"):
                row[f"excused:{name}"] += 1
        else:
            row["differing"] += 1
    total: Counter[str] = sum(rows.values(), Counter())
    out = [f"{'category':<24} {'lines':>6} {'same':>6} {'excused':>8} {'differ':>7}"]
    for name, row in [*sorted(rows.items()), ("TOTAL", total)]:
        out.append(
            f"{name:<24} {row['lines']:>6} {row['identical']:>6} {row['excused']:>8} "
            f"{row['differing']:>7}"
        )
    out.append(
        "excused by deviation: "
        + (", ".join(f"{d.name} {total[f'excused:{d.name}']}" for d in DEVIATIONS) or "none")
    )
    mutations = Counter(r.line.mutation for r in results if r.line.category != "prelude")
    out.append("lines by mutation: " + ", ".join(f"{k} {v}" for k, v in sorted(mutations.items())))
    return "\n".join(out)


def describe(r: Result) -> str:
    parts = [
        f"[{r.line.category}/{r.line.mutation}] {r.text}  -> differs in {', '.join(r.differing)}"
    ]
    if r.line.batch or r.line.stdin:
        parts.append(
            "  batch:\n    " + (r.line.batch or r.line.stdin or "").replace("\n", "\n    ")
        )
    for aspect in ("status", "stdout", "stderr"):
        if aspect in r.differing:
            parts.append(
                f"  {aspect}\n    ip: {getattr(r.theirs, aspect)!r}\n"
                f"    py: {getattr(r.ours, aspect)!r}"
            )
    parts += ["  " + d for d in r.state_diff]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--show", type=int, default=40, help="differences to print in full")
    parser.add_argument("--only", action="append", help="fuzz only this category (repeatable)")
    parser.add_argument("--no-fixed", action="store_true", help="skip the fixed scenarios")
    args = parser.parse_args(argv)
    import os

    started = time.monotonic()
    results = fuzz(args.count, args.seed, str(os.getpid()), args.only, not args.no_fixed)
    bad = [r for r in results if r.differing and not r.deviation]
    for r in bad[: args.show]:
        print(describe(r), end="\n\n")
    preludes = sum(r.line.category == "prelude" for r in results)
    elapsed = time.monotonic() - started
    print(f"seed {args.seed}, {args.count} lines (+ {preludes} prelude lines) in {elapsed:.0f} s")
    print(summary(results))
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())

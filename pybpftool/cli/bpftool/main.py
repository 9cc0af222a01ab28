"""main: the `pybpftool` command: what iproute2 lacks (offline inspection, verification).

click is imported only here, never by pyip/pytc start-up; rich only when a table is drawn
in a terminal (or must wrap), json only when a document is printed.
Commands take prefixes and `help` as bpftool's do (groups.py). With `--json`, a failure is
also a JSON object on stdout, `{"error": "..."}`, as bpftool -j prints it.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import click

from pybpftool import __version__
from pybpftool.cli.bpftool.groups import PrefixGroup
from pybpftool.cli.common.boundary import EXIT_USAGE, run
from pybpftool.errors import PyBpfError, UsageError

if TYPE_CHECKING:
    from rich.console import Console

PIPE_WIDTH = 200  # columns of a piped table: wide enough not to wrap what a person reads


def _console() -> Console:
    from rich.console import Console

    class QuietConsole(Console):
        """QuietConsole: a reader gone (`| head -1`) raises BrokenPipeError to the error
        boundary, which ends the command quietly. rich's default opens /dev/null to swallow
        the rest, which the sandbox refuses (and would turn into a traceback)."""

        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError

    if sys.stdout.isatty():
        return QuietConsole(highlight=False, markup=False, emoji=False)
    # Piped: no colour and no wrapping at 80 columns (spec/python.md §5).
    return QuietConsole(
        color_system=None, highlight=False, markup=False, emoji=False, width=PIPE_WIDTH
    )


def _plain_stdout() -> bool:
    """_plain_stdout: _console() would be an uncoloured UTF-8 console PIPE_WIDTH columns
    wide that rich does not take for a terminal (it honours TTY_COMPATIBLE and FORCE_COLOR),
    so plain text written without rich reads the same (and rich's import, 30 ms, is saved)."""
    if sys.stdout.isatty() or not (sys.stdout.encoding or "").lower().startswith("utf"):
        return False
    compatible = os.environ.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        return compatible == "0"
    return not os.environ.get("FORCE_COLOR")  # set and not empty: rich takes a terminal


@click.group(cls=PrefixGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="pybpftool")
def cli() -> None:
    """pybpftool: inspect and verify BPF ELF objects (legacy iproute2 and BTF alike)."""


@cli.group("object")
def object_group() -> None:
    """Show, verify and convert BPF ELF objects.

    `show` and `convert` only read the file (convert writes its BTF-maps rewrite);
    `verify` loads each program into the kernel once and keeps nothing.
    """


@object_group.command("show")
@click.argument("file", type=click.Path(dir_okay=True, allow_dash=False))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON document for scripts.")
def object_show(file: str, as_json: bool) -> None:
    """Show the maps and programs of FILE as the loader sees them."""
    from pybpftool.cli.bpftool.objshow import object_to_json, plain_object, render_object
    from pybpftool.parser import parse_object

    _confine([file])
    spec = parse_object(file)
    text = plain_object(spec, file, PIPE_WIDTH) if not as_json and _plain_stdout() else None
    if as_json:
        _write_json(object_to_json(spec, file))
    elif text is not None:
        sys.stdout.write(text)
    else:
        render_object(spec, file, _console())


@object_group.command("verify")
@click.argument("file", type=click.Path(dir_okay=True, allow_dash=False))
@click.option(
    "--type",
    "type_names",
    metavar="[NAME=]TYPE",
    multiple=True,
    help="Load every program as TYPE (sched_cls, xdp, ...), or the program whose function or "
    "section is NAME; repeatable.",
)
@click.option(
    "--btf",
    "target_btf",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="Apply CO-RE relocations against FILE instead of the kernel's BTF.",
)
@click.option("--verbose", is_flag=True, help="Print the full verifier log of rejected programs.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON document for scripts.")
@click.option(
    "--log-size",
    metavar="SIZE",
    help="Keep up to SIZE bytes of a rejected program's verifier log, its end "
    "(default $PYBPFTOOL_VERIFIER_LOG_SIZE, else 1M).",
)
@click.option(
    "--max-map-size",
    metavar="SIZE",
    help="Create no map that would reserve more than SIZE (default 64M).",
)
@click.option(
    "--max-maps-size",
    metavar="SIZE",
    help="Create maps reserving no more than SIZE in all (default 256M).",
)
def object_verify(
    file: str,
    type_names: tuple[str, ...],
    target_btf: str | None,
    verbose: bool,
    as_json: bool,
    log_size: str | None,
    max_map_size: str | None,
    max_maps_size: str | None,
) -> int:
    """Load each program of FILE in the kernel; report verdicts.

    Nothing is kept: maps are created unpinned and everything is released at the end.
    Exit status 0: all accepted; 1: a program rejected; 3: none rejected, but a program
    not verified (its section names no program type, and no --type gave one).
    """
    from pybpftool.cli.bpftool import verifyshow
    from pybpftool.kernel.bpf import Kernel
    from pybpftool.loader import limits
    from pybpftool.loader.verify import verify_object
    from pybpftool.parser import parse_object

    types = verifyshow.parse_type_choice(type_names)
    log_bytes = limits.verifier_log_size()
    if log_size is not None:
        log_bytes = limits.parse_size(log_size, "--log-size", limits.LOG_MIN, limits.LOG_MAX)
    budget = limits.DEFAULT_BUDGET
    if max_map_size is not None:
        budget = budget._replace(per_map=limits.parse_size(max_map_size, "--max-map-size"))
    if max_maps_size is not None:
        budget = budget._replace(total=limits.parse_size(max_maps_size, "--max-maps-size"))
    _confine([file, *([target_btf] if target_btf else [])])
    spec = parse_object(file)
    verifyshow.check_type_choice(types, spec)
    if as_json:
        verdicts = verify_object(Kernel(), spec, types, None, target_btf, log_bytes, budget)
        _write_json(verifyshow.verdicts_to_json(verdicts, file))
    elif _plain_stdout():
        verdicts = verify_object(Kernel(), spec, types, None, target_btf, log_bytes, budget)
        text = verifyshow.plain_verdicts(verdicts, file, verbose, PIPE_WIDTH)
        if text is None:
            verifyshow.print_verdicts(verdicts, file, verbose, _console())
        else:
            sys.stdout.write(text)
    else:
        verdicts = verifyshow.render_verdicts(
            Kernel(), spec, types, file, verbose, _console(), target_btf, log_bytes, budget
        )
    return verifyshow.exit_status(verdicts)


@object_group.command("convert")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=False))
@click.option("-o", "--output", metavar="OUT", help="Write the converted object to OUT.")
@click.option("--check", is_flag=True, help="Report what converting would do; write nothing.")
@click.option(
    "--object-ns-pins",
    type=click.Choice(["global", "none"]),
    help="PIN_OBJECT_NS maps: pinned by name (tc/globals) or not pinned.",
)
@click.option(
    "--custom-pins",
    type=click.Choice(["global", "none"]),
    help="Maps with a custom pinning id: pinned by name (tc/globals) or not pinned.",
)
@click.option(
    "--tail-calls",
    type=click.Choice(["static", "graft"]),
    help="ID/KEY tail calls: a statically initialised prog array, or a pinned one to graft.",
)
def object_convert(
    file: str,
    output: str | None,
    check: bool,
    object_ns_pins: str | None,
    custom_pins: str | None,
    tail_calls: str | None,
) -> int:
    """Rewrite the legacy object FILE with BTF-defined maps.

    iproute2's `struct bpf_elf_map` maps become `.maps` definitions that libbpf loaders
    (distro tc and ip, bpftool) load.
    """
    from pybpftool.cli.bpftool.convertcmd import (
        OutputFile,
        convert_options,
        read_object,
        report_lines,
    )
    from pybpftool.convert import convert_object

    options = convert_options(object_ns_pins, custom_pins, tail_calls)
    if check == (output is not None):
        raise UsageError("object convert needs either -o OUT or --check")
    out = OutputFile(output) if output is not None else None
    try:
        _confine([file], output_dir=out.folder if out else None)
        conversion = convert_object(read_object(file), options)
        lines = report_lines(conversion, output)
        if out is not None:
            out.commit(conversion.output())
    finally:
        if out is not None:
            out.discard()
    sys.stdout.write("".join(line + "\n" for line in lines))
    if check:
        sys.stdout.write(("refused: " if conversion.refused else "ok: ") + f"{file}\n")
    return 1 if conversion.refused else 0


@cli.group("sandbox")
def sandbox_group() -> None:
    """Show and test the Landlock sandbox of the commands.

    pyip, pytc and pybpftool confine themselves with it before reading an object.
    """


@sandbox_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON document for scripts.")
def sandbox_status(as_json: bool) -> None:
    """Show the Landlock ABI, handled rights and audit state."""
    from pybpftool.sandbox.check import status

    doc = status()
    if as_json:
        _write_json(doc)
        return
    sys.stdout.write(
        f"landlock abi {doc['abi']} (PYBPFTOOL_SANDBOX={doc['mode']})\n"
        f"handled fs: {' '.join(doc['handled']['fs']) or '-'}\n"
        f"handled net: {' '.join(doc['handled']['net']) or '-'}\n"
        f"scoped: {' '.join(doc['handled']['scope']) or '-'}\n"
        f"pin root allows: {' '.join(doc['allowed']['pin_root'])}\n"
        f"audit: {'enabled' if doc['audit']['enabled'] else 'disabled'}, records "
        f"{'readable' if doc['audit']['readable'] else 'not readable (CAP_AUDIT_READ)'}\n"
    )


@sandbox_group.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON document for scripts.")
def sandbox_check(as_json: bool) -> int:
    """Test the policy in a confined child; report each outcome.

    The child tries what the policy must deny and what it must allow.
    """
    from pybpftool.kernel.bpffs import ensure_mount, make_hierarchy
    from pybpftool.sandbox.check import check

    mount = ensure_mount()
    make_hierarchy(mount)
    results = check(mount)
    good = all((r["outcome"] == "denied") == (r["expected"] == "deny") for r in results)
    if as_json:
        _write_json({"ok": good, "results": results})
    else:
        for r in results:
            verdict = "ok  " if (r["outcome"] == "denied") == (r["expected"] == "deny") else "FAIL"
            blocker = f" [{r['blocker']}]" if r["blocker"] else ""
            sys.stdout.write(f"{verdict} {r['operation']}: {r['outcome']}{blocker}\n")
    return 0 if good else 1


@cli.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh"]))
def completion(shell: str) -> None:
    """Print the completion script for SHELL.

    It completes pyip, pytc and pybpftool: eval "$(pybpftool completion bash)".
    """
    from pybpftool.cli.bpftool.complete import BASH, ZSH

    sys.stdout.write(BASH if shell == "bash" else ZSH)


@cli.command("__complete", hidden=True, context_settings={"ignore_unknown_options": True})
@click.argument("tool", type=click.Choice(["ip", "tc", "bpftool"]))
@click.argument("words", nargs=-1, type=click.UNPROCESSED)
def complete_words(tool: str, words: tuple[str, ...]) -> None:
    """Completion candidates for the last word of a pyip, pytc or pybpftool command line."""
    from pybpftool.cli.bpftool.complete import candidates

    for word in candidates(tool, list(words)):
        sys.stdout.write(word + "\n")


def _write_json(doc: object) -> None:
    """_write_json: `doc` as an indented JSON document on stdout."""
    import json

    sys.stdout.write(json.dumps(doc, indent=2) + "\n")


def _confine(inputs: list[str], output_dir: str | None = None) -> None:
    """_confine: in a console process, read only the named inputs from here on (object
    commands pin nothing); `output_dir` is where a command renames its output into place.
    An in-process run is never confined."""
    from pybpftool import sandbox
    from pybpftool.cli.common.context import RunContext

    run = click.get_current_context().obj
    if isinstance(run, RunContext) and run.confines:
        sandbox.confine(sandbox.command_policy(inputs, None, output_dir))


def main(argv: list[str] | None = None, *, console: bool = False) -> int:
    """main: run one pybpftool command line (default: sys.argv[1:]) and return its exit
    status; the error boundary decides it. Called in-process it never confines the process;
    only the console script (and `python -m pybpftool`) pass `console=True`."""
    from pybpftool.cli.common.context import RunContext

    args = sys.argv[1:] if argv is None else list(argv)

    def body() -> int:
        try:
            status = cli.main(
                args=args, prog_name="pybpftool", standalone_mode=False, obj=RunContext(console)
            )
        except click.exceptions.NoArgsIsHelpError as err:
            sys.stderr.write(err.ctx.get_help() + "\n")  # a group without its command
            return EXIT_USAGE
        except click.UsageError as err:
            raise UsageError(err.format_message(), "Try 'pybpftool --help'.") from None
        except click.exceptions.Abort:
            return 130
        except click.exceptions.Exit as err:
            return int(err.exit_code)
        return status if isinstance(status, int) else 0

    def json_errors() -> int:
        try:
            return body()
        except PyBpfError as err:
            _write_json({"error": err.message})
            raise  # and on stderr as usual, with the usual exit status

    return run("pybpftool", json_errors if _wants_json(args) else body)


def _wants_json(args: list[str]) -> bool:
    """_wants_json: `--json` is among the options (before a `--`, which ends them)."""
    return "--json" in (args[: args.index("--")] if "--" in args else args)


if __name__ == "__main__":
    raise SystemExit(main(console=True))

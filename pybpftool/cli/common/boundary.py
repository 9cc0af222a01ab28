"""boundary: the one place where an exception becomes a message on stderr and an exit code.

Each front end calls `run(tool, body)`. Exit codes per tool follow spec/iproute2.md §5 for
pyip and pytc; pybpftool exits 1 for a bad object or kernel refusal, 2 for bad usage, and
3 when `object verify` could not give some programs to the kernel (and rejected none).
Messages are one line (plus an optional hint line), with untrusted text escaped; a
traceback is never shown for an expected failure.
"""

from __future__ import annotations

import errno
import os
import sys

from pybpftool.cli.common.escape import escape_text
from pybpftool.errors import PyBpfError, UsageError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import NoReturn

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_NOT_VERIFIED = 3  # pybpftool object verify: a program's type unknown, none rejected


def exit_code(tool: str, err: PyBpfError) -> int:
    """exit_code: the status `tool` exits with for `err`."""
    if tool == "pybpftool":
        return EXIT_USAGE if isinstance(err, UsageError) else EXIT_FAILURE
    return EXIT_FAILURE


# ip messages that come from a handler returning 1, which ip.c's do_cmd() turns into -1, so
# exit status 255 without an exit(): ipvrf_show()'s unknown VRF (and vrf_switch()'s).
IP_RETURNED_255 = ("Invalid VRF", "Invalid VRF name")


def ends_batch(tool: str, err: PyBpfError, status: int) -> bool:
    """ends_batch: iproute2 exit()s where `err` arose, so a -batch ends at once with `status`:
    no `Command failed FILE:LINE`, even with -force.

    An error that says (IprouteExit.fatal, set for lib/utils.c's exiting helpers and their
    wording) is taken at its word. Otherwise, for ip, status 255 means exit(-1): do_cmd()
    returns -(handler's return), so the handlers' -1 and -2 end as 1 and 2; the exceptions
    are IP_RETURNED_255 and pyip's own refusals (`pyip ...`), which ip has no counterpart for.
    tc returns its handlers' -1 as 255 too, so for tc only a marked error is fatal.
    """
    fatal: bool | None = getattr(err, "fatal", None)
    if fatal is not None:
        return fatal
    if tool != "ip" or status != 255:
        return False
    first = err.message.split("\n", 1)[0]
    return first not in IP_RETURNED_255 and not first.startswith("pyip ")


def report(tool: str, err: PyBpfError) -> None:
    """report: print `err` as `tool: message` (and its hint) on stderr, escaped."""
    lines = [escape_text(line) for line in err.details]
    lines.append(f"{tool}: {escape_text(err.message)}")
    if err.hint:
        lines.append(escape_text(err.hint))
    from pybpftool.cli.common.failures import sandbox_lines

    lines.extend(escape_text(line) for line in sandbox_lines(err))
    sys.stderr.write("\n".join(lines) + "\n")


def run(tool: str, body: Callable[[], int | None]) -> int:
    """run: call `body`, turning PyBpfError into a report and an exit code."""
    try:
        return body() or EXIT_OK
    except PyBpfError as err:
        report(tool, err)
        return exit_code(tool, err)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`| head`): exit quietly like C tools do on SIGPIPE.
        sys.stderr.close()
        return EXIT_FAILURE


def console(tool: str, main: Callable[[], int]) -> NoReturn:
    """console: run a console script's `main` and exit_process() with its status. A reader
    gone (`| head`) ends it quietly with 1 and Ctrl-C with 130, never with a traceback; output
    that cannot be written (`> /dev/full`) is one `write error` line and status 1.

    Only here, in a process that is ours alone, pyroute2's package __init__ is deferred
    (cli/common/coldstart.py): the codecs load without the rest of pyroute2."""
    from pybpftool.cli.common.coldstart import install_pyroute2_stub

    install_pyroute2_stub()
    set_young_threshold(YOUNG_THRESHOLD)
    output_lost = False
    try:
        status = main()
    except BrokenPipeError:
        status = EXIT_FAILURE
    except KeyboardInterrupt:
        status = 130
    except OSError as err:
        if not is_output_error(err):
            raise
        status = report_output_error(tool, err)
        output_lost = True  # what stdout still holds fails again at the last flush
    exit_process(tool, status, output_lost)


# Allocations (of objects the collector tracks, net of those freed) between two young
# collections of a console command: a cold command allocates about 25,000 while importing,
# so it ends before the first. A -batch goes back to Python's 700 (CPython's default) once
# its modules are in: its lines leave reference cycles (pyroute2's messages, about 45
# objects a line) that a 3,000-line batch would otherwise hold up to 8 MiB of.
YOUNG_THRESHOLD = 50_000
USUAL_YOUNG_THRESHOLD = 700


def set_young_threshold(young: int) -> None:
    """set_young_threshold: the collector's young threshold set to `young` for this process.

    console() raises it to YOUNG_THRESHOLD: with Python's 700, a cold `pytc filter replace`
    ran 38 collections (5-10 ms of its ~65) over the modules and classes it had just
    imported, none of which is garbage. Process-wide state: only console() calls it, and a
    console run's -batch (frontend) to go back to the usual threshold."""
    import gc

    _young, older, oldest = gc.get_threshold()
    gc.set_threshold(young, older, oldest)


def freeze_survivors() -> None:
    """freeze_survivors: what this process holds now (its modules, classes and functions,
    ~37,000 objects once a -batch's first line has imported what the lines need) moved out
    of the collector's sight (gc.freeze): the usual threshold's collections then scan what
    the lines allocate, not the whole program again (a -batch line paid ~25 us for that).
    Only console() runs (frontend's -batch) call it: it is process-wide."""
    import gc

    gc.freeze()


# What a failed write of standard output raises: a full disk or quota, a file past its
# limit, a device error. Python's streams raise them without a file name, which every
# OSError of opening or reading a named file has.
OUTPUT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO})


def is_output_error(err: OSError) -> bool:
    """is_output_error: `err` is a write of our output that failed (not a pipe gone)."""
    return err.filename is None and err.errno in OUTPUT_ERRNOS


def report_output_error(tool: str, err: OSError) -> int:
    """report_output_error: say on stderr that output was lost, and return status 1.
    iproute2's tools end 0 with their output silently cut (C stdio's write errors go
    unchecked); a script is better told (a deliberate difference, in the man pages)."""
    prefix = "" if tool in ("ip", "tc") else f"{tool}: "
    try:
        sys.stderr.write(f"{prefix}write error: {os.strerror(err.errno or errno.EIO)}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    return EXIT_FAILURE


def exit_process(tool: str, status: int, output_lost: bool = False) -> NoReturn:
    """exit_process: flush stdout and stderr, then end the process at once with `status`.

    A console script ends here instead of in sys.exit(): the interpreter's teardown (clearing
    every module and collecting its objects) costs a cold attach about 10 ms and does nothing
    a command needs. Kernel objects and fds go with the process; loads and pins are committed
    or undone before main() returns; files are written inside `with` blocks; no command starts
    threads or registers atexit handlers. A reader gone before the last flush (`| head`) makes
    the status 1, quietly, as run() does for one gone earlier; output that cannot be written
    at that flush is reported as console() reports it.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:
            status = status or EXIT_FAILURE
        except OSError as err:
            if stream is sys.stdout and is_output_error(err) and not output_lost:
                status = report_output_error(tool, err)
        except ValueError:  # stream closed: nothing left to say
            pass
    os._exit(status & 0xFF)

"""findings: what a conversion refuses, substitutes or notes, and the options that choose.

A legacy object uses features a BTF object cannot state (iproute2's per-object and custom pin
namespaces) or that iproute2's libbpf path does not honour (programs other than the attached
one are not loaded, so tail-call targets are not): each is a Finding naming the map or
program, the feature and the choices. A refused finding stops the conversion unless an option
selects its documented substitute.
"""

from __future__ import annotations

from enum import Enum
from typing import NamedTuple

from pybpftool.errors import ObjectError


class PinChoice(Enum):
    """PinChoice: what a pin namespace libbpf lacks becomes."""

    GLOBAL = "global"  # pinned by name under the pin root: <mnt>/tc/globals/NAME
    NONE = "none"  # not pinned: a new map on every load


class TailCallMode(Enum):
    """TailCallMode: how legacy `ID/KEY` tail calls are carried over."""

    STATIC = "static"  # a prog array statically initialised with its programs
    GRAFT = "graft"  # a prog array pinned by name, filled by `tc exec bpf graft`


class ConvertOptions(NamedTuple):
    """ConvertOptions: the substitutes a user selected (None: refuse the feature)."""

    object_ns_pins: PinChoice | None = None
    custom_pins: PinChoice | None = None
    tail_calls: TailCallMode | None = None


class Severity(Enum):
    """Severity: refused stops the conversion; changed and note describe the output."""

    REFUSED = "refused"
    CHANGED = "changed"
    NOTE = "note"


class Finding(NamedTuple):
    """Finding: one thing about the conversion: `subject` (e.g. "map 'jmp_tc'"), `feature`
    (e.g. "PIN_OBJECT_NS"), why, and for a refusal the `choices` that would resolve it."""

    severity: Severity
    subject: str
    feature: str
    text: str
    choices: str = ""

    def line(self) -> str:
        """line: the finding as one line of text."""
        out = f"{self.severity.value}: {self.subject}: {self.feature}: {self.text}"
        return f"{out}; choices: {self.choices}" if self.choices else out


class Graft(NamedTuple):
    """Graft: program section `section` belongs in slot `key` of the pinned prog array `map`
    (what `tc exec bpf graft m:globals/MAP key KEY obj OUT sec SECTION` does)."""

    map: str
    key: int
    section: str


class ConversionRefused(ObjectError):
    """ConversionRefused: the object uses what the output cannot express; `findings` holds
    every finding (refused or not), each printed as one line before the message."""

    def __init__(self, findings: tuple[Finding, ...]) -> None:
        refused = [f for f in findings if f.severity is Severity.REFUSED]
        count = len(refused)
        super().__init__(
            f"conversion refused: {count} feature{'s' * (count != 1)} without a BTF equivalent",
            "run with --check to see every finding; the choices name the options that apply",
            tuple(f.line() for f in refused),
        )
        self.findings = findings

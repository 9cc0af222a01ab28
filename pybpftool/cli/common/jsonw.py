"""jsonw: iproute2's json_writer (lib/json_writer.c) output, compact and pretty.

Pretty output is not json.dumps(indent=4): arrays open with `[ `, their objects follow on the
same line (`[ {`, `},{`), members are indented one level per array *and* object, and an
array closes with ` ]`. Reproducing the writer's separator/indent state machine gives the
same bytes for every shape.
"""

from __future__ import annotations

from typing import Any


class _Writer:
    def __init__(self, pretty: bool) -> None:
        import json  # only -j needs it: `pyip link show` and `pytc filter show` do not

        self.encode = json.dumps  # a JSON string or number, as json_writer escapes it
        self.pretty = pretty
        self.out: list[str] = []
        self.depth = 0
        self.sep = ""

    def eor(self) -> None:
        if self.sep:
            self.out.append(self.sep)
        self.sep = ","

    def eol(self) -> None:
        if self.pretty:
            self.out.append("\n" + "    " * self.depth)

    def begin(self, char: str) -> None:
        self.eor()
        self.out.append(char)
        self.depth += 1
        self.sep = ""

    def end(self, char: str) -> None:
        self.depth -= 1
        if self.sep:
            self.eol()
        self.out.append(char)
        self.sep = ","

    def name(self, key: str) -> None:
        self.eor()
        self.eol()
        self.sep = ""
        self.out.append(self.encode(key) + (": " if self.pretty else ":"))

    def value(self, value: Any) -> None:
        if isinstance(value, dict):
            self.begin("{")
            for key, item in value.items():
                self.name(key)
                self.value(item)
            self.end("}")
        elif isinstance(value, list):
            self.begin("[")
            if self.pretty:
                self.out.append(" ")
            for item in value:
                self.value(item)
            if self.pretty and self.sep:
                self.out.append(" ")
            self.sep = ""
            self.end("]")
        else:
            self.eor()
            self.out.append(self.encode(value))


def dumps(value: Any, pretty: bool = False) -> str:
    """dumps: `value` as iproute2 prints it (no trailing newline)."""
    writer = _Writer(pretty)
    writer.value(value)
    return "".join(writer.out)

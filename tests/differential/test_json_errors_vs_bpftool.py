"""With JSON output, a failure is a JSON document on stdout, shaped as bpftool's: one object
whose only member is "error", a one-line message (bpftool -j: `{"error":"..."}`). Both
also fail with a non-zero status; the statuses differ (bpftool's are its own)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PYBPFTOOL = [sys.executable, "-m", "pybpftool"]


def error_document(argv: list[str]) -> dict[str, object]:
    done = subprocess.run(argv, capture_output=True, text=True)
    assert done.returncode != 0
    doc = json.loads(done.stdout)
    assert isinstance(doc, dict)
    return doc


@pytest.mark.parametrize(
    "ours",
    [
        ["object", "show", "--json", "/nonexistent.o"],
        ["object", "verify", "--json", "/nonexistent.o"],
        ["object", "verify", "--json", "--type", "nope", "/nonexistent.o"],
    ],
    ids=["show", "verify", "usage"],
)
def test_json_error_documents_have_bpftool_s_shape(ours: list[str]) -> None:
    mine = error_document([*PYBPFTOOL, *ours])
    reference = error_document(["bpftool", "-j", "btf", "dump", "file", "/nonexistent.o"])
    assert list(mine) == list(reference) == ["error"]
    for doc in (mine, reference):
        assert isinstance(doc["error"], str) and doc["error"] and "\n" not in doc["error"]

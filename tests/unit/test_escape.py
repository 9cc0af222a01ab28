"""Untrusted text reaches a terminal only with control characters made visible."""

from __future__ import annotations

import pytest

from pybpftool.cli.common.escape import escape_text


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        pytest.param("classifier", "classifier", id="plain"),
        pytest.param("tc/ingress", "tc/ingress", id="slash"),
        pytest.param("a\x1b[31mb", "a\\x1b[31mb", id="ansi-escape"),
        pytest.param("line\nbreak", "line\\x0abreak", id="newline"),
        pytest.param("tab\there", "tab\\x09here", id="tab"),
        pytest.param("bell\x07", "bell\\x07", id="bell"),
        pytest.param("del\x7f", "del\\x7f", id="del"),
        pytest.param("c1\x9b", "c1\\x9b", id="c1-csi"),
        pytest.param("back\\slash", "back\\\\slash", id="backslash-doubled"),
        pytest.param("naïve", "naïve", id="printable-unicode"),
        pytest.param("bidi\u2028", "bidi\\u2028", id="line-separator"),
    ],
)
def test_escape_text(raw: str, shown: str) -> None:
    assert escape_text(raw) == shown


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        pytest.param("Usage:\tip", "Usage:\tip", id="tabs-kept"),
        pytest.param("'s,c t f k'\\n", "'s,c t f k'\\n", id="backslash-kept"),
        pytest.param('device "e\x1b[2J"', 'device "e\\x1b[2J"', id="ansi-escape"),
        pytest.param("bell\x07", "bell\\x07", id="bell"),
        pytest.param("c1\x9b", "c1\\x9b", id="c1-csi"),
    ],
)
def test_terminal_safe_keeps_iproute2_texts_and_escapes_controls(raw: str, shown: str) -> None:
    from pybpftool.cli.common.escape import terminal_safe

    assert terminal_safe(raw) == shown

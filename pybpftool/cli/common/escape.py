"""escape: make untrusted text (ELF names, verifier and extack text) safe for a terminal.

Control characters, DEL, C1 controls and lone surrogates are shown as `\\xNN` / `\\uNNNN`
escapes, and a backslash is doubled so the escaping cannot be forged. Printable Unicode is
kept. JSON output needs none of this: its writer escapes control characters itself.
"""

from __future__ import annotations


def _escape_char(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def _unsafe(ch: str) -> bool:
    code = ord(ch)
    return code < 0x20 or 0x7F <= code < 0xA0 or 0xD800 <= code < 0xE000 or code in (0x2028, 0x2029)


def escape_text(text: str) -> str:
    """escape_text: `text` with every character a terminal would interpret made visible."""
    if text.isprintable() and "\\" not in text:
        return text
    return "".join("\\\\" if ch == "\\" else _escape_char(ch) if _unsafe(ch) else ch for ch in text)


def terminal_safe(text: str) -> str:
    """terminal_safe: iproute2-compatible text with only terminal controls made visible.

    For pyip/pytc output, whose texts must stay byte-identical to iproute2's: tabs and
    backslashes are kept (usage texts have both); every other control character, DEL, C1
    control or line separator, which could move the cursor or recolour the terminal, is
    shown as an escape.
    """
    if text.isprintable() or all(ch == "\t" or not _unsafe(ch) for ch in text):
        return text
    return "".join(_escape_char(ch) if ch != "\t" and _unsafe(ch) else ch for ch in text)

"""tc filter show of cls_bpf filters holding actions: tc adds them (mirred redirect, mirred
mirror with an index and a cookie, two actions in one list), then tc and pytc list the same
namespace; pytc prints each filter's action table as tc's tc_print_action() does (text,
-s, -d, -j, -p, -o), the flags of bound actions left out as tc leaves them out."""

from __future__ import annotations

import re
import subprocess

import bpfobjs
import pytest
from scripts import BIN

HOST = "bpfel"
LISTINGS = [[], ["-s"], ["-d"], ["-s", "-d"], ["-j"], ["-j", "-s"], ["-p", "-j"], ["-o"]]
FILTERS = [
    ["pref", "1", "bpf", "da", "obj", "{obj}", "action", "mirred", "egress", "redirect",
     "dev", "v1"],
    ["pref", "2", "bpf", "da", "obj", "{obj}", "action", "mirred", "ingress", "mirror",
     "dev", "v1", "index", "7", "cookie", "0a0b", "action", "mirred", "egress", "mirror",
     "dev", "v0"],
    ["pref", "3", "bpf", "da", "obj", "{obj}"],  # and one without actions among them
]  # fmt: skip
VARYING = [
    (r"\b(id|load_time|btf_id) \d+", r"\1 N"),
    (r'"(id|installed|last_used|first_used)":\s*\d+', r'"\1":N'),
    (r"\b(installed|used|firstused) \d+ sec", r"\1 N sec"),
]


def _same_run(text: str) -> str:
    for pattern, replacement in VARYING:
        text = re.sub(pattern, replacement, text)
    return text


def test_filters_with_actions_print_as_tc_prints_them(
    netns: str, env: dict[str, str], _need_root: None
) -> None:
    obj = str(bpfobjs.build("twin_btf", HOST))
    subprocess.run(["tc", "-n", netns, "qdisc", "add", "dev", "v0", "clsact"], check=True)
    for words in FILTERS:
        line = [w.format(obj=obj) for w in words]
        subprocess.run(
            ["tc", "-n", netns, "filter", "add", "dev", "v0", "egress", *line],
            check=True, capture_output=True, env=env,
        )  # fmt: skip
    for options in LISTINGS:
        words = [*options, "filter", "show", "dev", "v0", "egress"]
        theirs = subprocess.run(["tc", "-n", netns, *words], capture_output=True, text=True)
        ours = subprocess.run([str(BIN / "pytc"), "-n", netns, *words],
                              capture_output=True, text=True)  # fmt: skip
        assert (ours.returncode, ours.stderr) == (theirs.returncode, theirs.stderr), words
        assert "mirred" in theirs.stdout, words  # the listing holds the actions
        assert _same_run(ours.stdout) == _same_run(theirs.stdout), words


@pytest.mark.parametrize("json", [False, True], ids=["text", "json"])
def test_a_filter_get_prints_its_actions(
    netns: str, env: dict[str, str], _need_root: None, json: bool
) -> None:
    obj = str(bpfobjs.build("twin_btf", HOST))
    subprocess.run(["tc", "-n", netns, "qdisc", "add", "dev", "v0", "clsact"], check=True)
    line = [w.format(obj=obj) for w in FILTERS[1]]
    subprocess.run(["tc", "-n", netns, "filter", "add", "dev", "v0", "egress", *line],
                   check=True, capture_output=True, env=env)  # fmt: skip
    words = [*(["-j"] if json else []), "filter", "get", "dev", "v0", "egress", "pref", "2",
             "protocol", "all", "handle", "1", "bpf"]  # fmt: skip
    theirs = subprocess.run(["tc", "-n", netns, *words], capture_output=True, text=True)
    ours = subprocess.run([str(BIN / "pytc"), "-n", netns, *words], capture_output=True, text=True)
    assert (ours.returncode, ours.stderr) == (theirs.returncode, theirs.stderr)
    assert "Mirror" in theirs.stdout or "mirror" in theirs.stdout
    assert _same_run(ours.stdout) == _same_run(theirs.stdout)

"""ifnames: network devices named on a command line, looked up as iproute2 looks them up.

- `name_to_index` is lib/ll_map.c ll_name_to_index(): the link by name (IFLA_IFNAME, or
  IFLA_ALT_IFNAME for a name an ifname cannot be), else `ifN` read as index N, else 0. ip and
  tc alike: `tc qdisc add dev if3 ...` works on index 3 whatever its name.
- `tc_dev_name` is what tc keeps of a `dev` word: tc copies it into a char[IFNAMSIZ] with
  strncpy(d, *argv, sizeof(d) - 1), so only its first 15 bytes count (its `Cannot find
  device` message names the cut name) and an empty word is no device at all. A qdisc's or
  filter's kind is cut the same way (char k[FILTER_NAMESZ]).
"""

from __future__ import annotations

import os
import re

IFNAMSIZ = 16
FILTER_NAMESZ = 16  # tc's char k[FILTER_NAMESZ] for a qdisc's or filter's kind
# ll_idx_a2n(): sscanf(name, "if%u", &idx); compiled (re's cache) by the first name that is
# no link's, not by every command that imports this
_IF_INDEX = r"if([+-]?\d+)"


def name_to_index(nl: object, name: str) -> int:
    """name_to_index: ll_name_to_index() of `name` on the rtnetlink socket `nl`: the link's
    index by name, else the N of `ifN`, else 0."""
    from pybpftool.errors import NetlinkFailure

    try:
        index = nl.link_index(name)  # type: ignore[attr-defined]
    except NetlinkFailure:
        index = None
    if index is not None:
        return int(index)
    found = re.match(_IF_INDEX, name)
    return int(found[1]) % (1 << 32) if found else 0


def tc_dev_name(word: str) -> str | None:
    """tc_dev_name: the device name tc keeps of `word` (its first IFNAMSIZ - 1 bytes); None
    for an empty word, which tc takes for no device (d[0] == 0)."""
    return strncpy(word, IFNAMSIZ) or None


def strncpy(word: str, size: int) -> str:
    """strncpy: what `strncpy(buf, word, size - 1)` into a zeroed char[size] keeps of
    `word`: its first size - 1 bytes (a kind word is cut as a device name is)."""
    return os.fsdecode(os.fsencode(word)[: size - 1])

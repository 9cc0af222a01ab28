"""ip: the `pyip` command: dispatch (main), `link set ... xdp` (link), `link show`
(linkshow), `vrf` (vrf)."""

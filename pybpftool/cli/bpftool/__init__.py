"""bpftool: the `pybpftool` command: dispatch (main), `object show` (objshow), `object
verify` (verifyshow), shell completion for all three tools (complete)."""

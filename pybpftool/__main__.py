"""`python -m pybpftool` runs the `pybpftool` command."""

from pybpftool.cli.bpftool.main import main

raise SystemExit(main(console=True))  # a process of its own, as the script

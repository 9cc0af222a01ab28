"""`python -m pybpftool` runs the `pybpftool` command."""

from pybpftool.cli.bpftool import main

raise SystemExit(main())

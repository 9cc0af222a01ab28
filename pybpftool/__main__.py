"""`python -m pybpftool` runs the `pybpftool` command."""

from pybpftool.cli.bpftool.main import main

raise SystemExit(main())

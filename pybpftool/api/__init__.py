"""api: the public Python API, re-exported lazily by the `pybpftool` package itself.

One path from object to attached program, for Python callers and pyip/pytc alike:
objects.py (load, Collection, Program, Map), xdp.py and tc.py (attach and detach; the one
request each that the CLI sends too), confine.py (Landlock on the caller's request). Nothing
here changes the calling process: no stub modules, no patched classes, no setns that
outlives a call, no Landlock unless `confine()` is called, no signal or exit handlers.
"""

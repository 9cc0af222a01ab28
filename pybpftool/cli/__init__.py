"""cli: the pyip, pytc and pybpftool front ends (grammar, rendering, error boundary)."""

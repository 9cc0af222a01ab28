"""cli: the pyip, pytc and pybpftool front ends, one package per tool (ip/, tc/, bpftool/)
and what they share (common/): grammar, rendering and the error boundary live here."""

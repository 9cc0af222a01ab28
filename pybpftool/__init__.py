"""pybpftool: iproute2-compatible BPF front ends with a pure-Python ELF loader.

Kept import-free on purpose: `pyip -V` must not pay for anything it does not use.
"""

__version__ = "0.1.0"

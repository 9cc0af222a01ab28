"""kernel: the only place that calls bpf(2), mount(2) and statfs(2) (through ctypes)."""

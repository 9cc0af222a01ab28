"""tc: the `pytc` command: dispatch (main), `qdisc` (qdisc), `filter ... bpf` (filter,
filterprog, cbpf), actions inside filters and their printing (action), the action grammar
(actparse) and `actions` (actions), `chain` (chain), `exec bpf` (exec_bpf), and the
show/get output (show)."""

"""tc: the `pytc` command: dispatch (main), `qdisc` (qdisc), `filter ... bpf` (filter, and
its program side in filterprog and cbpf), tc's one action grammar (actparse) for `actions`
(actions), the actions of filters and chain templates, their printing (actprint), `chain`
(chain), `exec bpf` (exec_bpf), tc's handle words (handles), and the show/get output
(show)."""

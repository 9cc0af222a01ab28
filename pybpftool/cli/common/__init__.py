"""common: what pyip, pytc and pybpftool share: global options and keyword matching
(grammar), the argument cursor (words), -batch (batch, frontend), the BPF sub-grammar
(bpfsource) and the load-then-attach step (attach), the error boundary and exit codes
(boundary), failure texts (failures), iproute2's JSON writer (jsonw), escaping of untrusted
text (escape), prog info lines (proginfo) and iproute2's usage texts (usage)."""

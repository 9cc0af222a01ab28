"""maps: map definitions of an ELF object -> MapSpec (legacy `maps`, BTF `.maps`, global data)."""

"""Detection rule catalog: the shipped Sigma rules, their examples, and the `rules` command."""

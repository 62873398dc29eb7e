"""Pure code: search spaces, priors, command lines, trials, experiments and algorithms."""

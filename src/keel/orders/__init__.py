"""Orders context: capture, commit, sourcing, fulfilment and returns."""

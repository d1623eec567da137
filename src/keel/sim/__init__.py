"""The retail twin: a deterministic generator of a realistic multi-country retailer."""

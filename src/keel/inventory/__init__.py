"""Inventory: locations, the stock ledger, positions, reservations, cycle counts, channel availability."""

"""Media: ad accounts and campaigns, performance, inventory-aware rules and ad connectors (issue 16)."""

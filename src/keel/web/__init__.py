"""Control-tower pages (server-rendered)."""

"""The media context's storage: its tables (``tables``) and every query on them."""

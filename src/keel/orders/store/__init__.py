"""Orders storage: the tables (``tables``) and every query, one module per aggregate. Each function takes
the caller's ``Connection`` first (the service owns the transaction) and returns records, never rows."""

"""Audit: an append-only log of every write attempt (who, what, when, through which path, from where, how
it ended), linked to the events each one appended.

The public face: the service bootstrap builds, its commands and results, and the HTTP middleware that
records API and page writes.
"""

from keel.audit.model import AuditEntry, AuditPage, AuditQuery, NewAuditEntry
from keel.audit.service import AuditService, AuditTrail

__all__ = ["AuditEntry", "AuditPage", "AuditQuery", "AuditService", "AuditTrail", "NewAuditEntry"]

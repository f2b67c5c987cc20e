"""The quarantine: held mail, encrypted at rest, with its review trail.

model      the domain: HeldMessage, HeldStatus, HeldSummary/HeldRecord, Role, Account, AuditEvent
store      open_store(settings) -> SqlQuarantineStore: SQLite (default) or PostgreSQL, migrated
lifecycle  the held-message states and every transition between them, in one table
decisions  Decisions(store, relay): release (exactly once), reject, delete... each audited
commands   `sendguard quarantine ...`

Nothing is imported here, so that `scanner.quarantine.model` stays as light as `scanner.model`.
"""

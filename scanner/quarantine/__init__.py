"""The quarantine: held mail, encrypted at rest, with its review trail.

model      the domain: HeldMessage, HeldStatus, HeldSummary/HeldRecord, Role, Account, AuditEvent
store      open_store(settings) -> SqlQuarantineStore: SQLite (default) or PostgreSQL, migrated
release    release(store, relay, id, actor) -> ReleaseOutcome: exactly-once release upstream
commands   `sendguard quarantine ...`

Nothing is imported here, so that `scanner.quarantine.model` stays as light as `scanner.model`.
"""

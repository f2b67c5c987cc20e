"""The quarantine: held mail, encrypted at rest, with its review trail.

open_store(settings) -> SqlQuarantineStore      SQLite (default) or PostgreSQL, migrated
release(store, relay, id, actor) -> ReleaseOutcome   exactly-once release upstream
commands.add_arguments / commands.run           `sendguard quarantine ...`
"""

from scanner.quarantine.crypto import QuarantineKeyError, generate_key
from scanner.quarantine.release import ReleaseOutcome, ReleaseResult, release, release_message
from scanner.quarantine.store import SqlQuarantineStore, open_store

__all__ = [
    "QuarantineKeyError",
    "ReleaseOutcome",
    "ReleaseResult",
    "SqlQuarantineStore",
    "generate_key",
    "open_store",
    "release",
    "release_message",
]

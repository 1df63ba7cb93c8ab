"""One writer at a time for the governed workspace: saves, verdicts, publishes, rollbacks.

These actions all write the same artifact rows (head, approved and published revision
numbers) and decide from what they read first, so two at once either trip the rows'
optimistic version check in the middle of an action (an error where the person expected
an answer), report a conflict with an edit nobody made, or, for two publishes of one
approval, both compile and store a bundle. So each action takes the workspace lock
before it reads: PostgreSQL's transaction-scoped advisory lock, or SQLite's write lock
(the first write statement of a transaction takes it). The lock lasts until the
request's unit of work commits or rolls back; whoever comes second waits, then reads
what the first one stored and answers from that: "nothing new to publish", "this was
changed by X", or it simply succeeds.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import text
from sqlalchemy.orm import Session

#: An arbitrary constant naming the studio's workspace lock among advisory locks.
ADVISORY_KEY: Final = 0x5057_4F52
_TAKEN: Final = "studio.workspace_lock"


def take_workspace_lock(session: Session) -> None:
    """Wait for the workspace lock (held to the end of the transaction), then read fresh.

    Objects loaded before the lock are expired (unless they carry unsaved changes), so
    what the action reads next is what the previous writer committed.
    """
    if session.info.get(_TAKEN) is session.get_transaction():
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_KEY})
    else:
        # A write that changes nothing still makes SQLite take its write lock (waiting
        # up to the busy timeout), as the first write of the transaction.
        session.execute(text("UPDATE artifacts SET id = id WHERE id < 0"))
    for obj in list(session.identity_map.values()):
        if obj not in session.dirty and obj not in session.new:
            session.expire(obj)
    session.info[_TAKEN] = session.get_transaction()

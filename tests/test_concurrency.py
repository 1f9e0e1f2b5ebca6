"""Several processes saving the same PA cases and REMS sessions at once lose no update, on both databases.

Every stale save is refused (StaleEdit from the service's expected_version check, or StaleDataError from the
version column at flush) and retried; afterwards the marks left on the rows equal the successful saves.
The full 8 processes x 200 updates run is `python bench/run.py --only concurrency`.
"""

from __future__ import annotations

import pytest

from tests import contention

WORKERS = 4
UPDATES = 25
ROWS = 2


@pytest.mark.parametrize("kind", contention.KINDS)
def test_concurrent_saves_lose_no_update(db_url: str, kind: str) -> None:
    row_ids = contention.prepare(db_url, rows=ROWS)[kind]
    outcome = contention.run(db_url, kind=kind, row_ids=row_ids, workers=WORKERS, updates=UPDATES)
    counts = outcome.counts
    assert counts.saved == WORKERS * UPDATES
    assert outcome.lost_updates == 0, f"{outcome.lost_updates} of {counts.saved} saves were lost"
    assert outcome.duplicate_marks == 0
    assert counts.attempts == counts.saved + counts.conflicts, "every retry follows a refused stale save"
    assert counts.conflicts > 0, "the workers never collided; the test proved nothing"

"""Migrations are numbered in advance by branch (issue 20: reconcile 2, erase 3, bounds 4, records
5): a database that already has a higher version still gets a lower one merged later, once."""

from coursewire.server.store import migrations, open_store


def test_a_migration_merged_later_with_a_lower_number_is_applied_once(database, monkeypatch):
    store = open_store(database)  # every migration this checkout has, up to its highest number
    try:
        known = [version for version, _, _ in migrations.MIGRATIONS]
        # Number 0 stands for a lower number than the database's, merged after it was migrated.
        monkeypatch.setattr(
            migrations,
            "MIGRATIONS",
            [(0, "a later branch's table", ["CREATE TABLE late_branch (x INTEGER)"])] + migrations.MIGRATIONS,
        )
        assert store.open() == [0]
        assert store.open() == []
        assert sorted(row[0] for row in store.dump()["schema_version"]) == [0] + known
        assert store._transaction(lambda tx: tx.run("SELECT COUNT(*) FROM late_branch").fetchone()[0], write=False) == 0
    finally:
        store.close()

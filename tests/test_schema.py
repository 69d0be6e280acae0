"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from chatops.store import migrate
from chatops.store.db import Database
from chatops.store.tables import Base


def test_migrations_match_the_models(database_url: str) -> None:
    db = Database(database_url)
    try:
        assert migrate.state(db.engine) is migrate.SchemaState.EMPTY
        migrate.upgrade(db.engine)
        assert migrate.state(db.engine) is migrate.SchemaState.CURRENT
        with db.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert differences == []
    finally:
        db.close()


def test_upgrade_twice_changes_nothing(database_url: str) -> None:
    db = Database(database_url)
    try:
        migrate.upgrade(db.engine)
        migrate.upgrade(db.engine)
        assert migrate.state(db.engine) is migrate.SchemaState.CURRENT
    finally:
        db.close()


def test_the_db_upgrade_command_brings_an_empty_database_to_the_newest_schema(database_url: str) -> None:
    import os
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "chatops", "db", "upgrade"],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"chatops: database at revision {migrate.head()}"
    db = Database(database_url)
    try:
        assert migrate.state(db.engine) is migrate.SchemaState.CURRENT
    finally:
        db.close()

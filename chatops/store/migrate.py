"""Schema migrations: apply them, and tell whether a database is empty, current or behind."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

_SCRIPTS = Path(__file__).parent / "migrations"


class SchemaState(StrEnum):
    """How a database's schema compares with this code's."""

    EMPTY = "empty"
    CURRENT = "current"
    BEHIND = "behind"
    UNKNOWN = "unknown"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    return config


def head() -> str:
    """The newest migration this code ships."""
    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None
    return revision


def upgrade(engine: Engine, to: str = "head") -> None:
    """Bring the schema to the newest migration (or to the revision `to`)."""
    config = _config()
    with engine.connect() as connection:
        # SQLite alters a table by copying it and dropping the original, which other tables' rows still
        # point at: foreign keys are off while it does (SQLite only lets that change outside a
        # transaction), and every reference is checked before the upgrade commits.
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")  # type: ignore[union-attr]
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, to)
                if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                    raise RuntimeError("the upgrade would leave rows pointing at rows that do not exist")
        finally:
            if sqlite:
                connection.connection.driver_connection.execute("PRAGMA foreign_keys = ON")  # type: ignore[union-attr]


def state(engine: Engine) -> SchemaState:
    """Whether the schema is empty, current, behind, or not one of ours."""
    with engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        current = MigrationContext.configure(connection).get_current_revision()
    if current is None:
        return SchemaState.EMPTY if not tables else SchemaState.UNKNOWN
    return SchemaState.CURRENT if current == head() else SchemaState.BEHIND

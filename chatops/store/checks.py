"""Start-up checks of DATABASE_URL: each mistake becomes one ConfigError naming the setting and the fix."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy import URL, create_engine, make_url, text
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from chatops.errors import ConfigError
from chatops.store.db import normalize_url

SETTING = "DATABASE_URL"
EXAMPLES = "sqlite:///path/to/chatops.db or postgresql://user@host:5432/dbname"
# What normalize_url may hand on: SQLite through the standard library, PostgreSQL through psycopg 3.
_DRIVERS = {"sqlite", "sqlite+pysqlite", "postgresql+psycopg"}


def check_database_url(url: str, *, timeout: float = 3.0) -> None:
    """Refuse a DATABASE_URL the desk could not use; a PostgreSQL server must answer within `timeout` s."""
    parsed = _parse(url)
    if parsed.get_backend_name() == "sqlite":
        _check_sqlite(parsed, timeout)
    else:
        _check_postgresql(parsed, timeout)


def database_failure(url: str, error: Exception) -> ConfigError:
    """A database error met at start-up, as one line naming DATABASE_URL and where it points."""
    return ConfigError(f"{SETTING}: {_where(url)}: {_first_line(error)}")


def _parse(url: str) -> URL:
    if not url.strip():
        raise ConfigError(f"{SETTING}: set but empty; unset it for sqlite:///chatops.db, or use {EXAMPLES}")
    try:
        parsed = make_url(normalize_url(url))
    except (ArgumentError, ValueError):
        # Most often a bare file path: show the URL that names it.
        raise ConfigError(
            f"{SETTING}: {url!r} is not a database URL; for a SQLite file use sqlite:///{url}, "
            f"for PostgreSQL postgresql://user@host:5432/dbname"
        ) from None
    if parsed.drivername not in _DRIVERS:
        scheme = url.split("://", 1)[0]
        raise ConfigError(
            f"{SETTING}: {parsed.render_as_string(hide_password=True)!r}: the scheme {scheme!r} is not "
            f"supported; use {EXAMPLES}"
        )
    return parsed


def _check_sqlite(url: URL, timeout: float) -> None:
    database = url.database or ""
    if database in ("", ":memory:") or url.query.get("mode") == "memory":
        raise ConfigError(
            f"{SETTING}: an in-memory SQLite database cannot be shared by the server's threads; "
            "use a file, such as sqlite:///chatops.db"
        )
    path = Path(database).absolute()
    folder = path.parent
    if path.is_dir():
        raise ConfigError(
            f"{SETTING}: {str(path)!r} is a directory; name a file in it, "
            f"such as sqlite:///{path / 'chatops.db'}"
        )
    if not folder.exists():
        raise ConfigError(
            f"{SETTING}: the directory {str(folder)!r} does not exist; "
            "create it, or name a file in another directory"
        )
    if not folder.is_dir():
        raise ConfigError(f"{SETTING}: {str(folder)!r} is not a directory; name a file in a directory")
    # SQLite writes its write-ahead log and shared-memory files beside the database, so the directory
    # must be writable even when the database file already is.
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(
            f"{SETTING}: the directory {str(folder)!r} is not writable; SQLite keeps its journal beside the "
            "database, so let the user running chatops write there"
        )
    if not path.exists():
        return
    if not os.access(path, os.R_OK | os.W_OK):
        raise ConfigError(
            f"{SETTING}: {str(path)!r} is not writable; let the user running chatops read and write it"
        )
    _check_sqlite_file(path, timeout)


def _check_sqlite_file(path: Path, timeout: float) -> None:
    # mode=rw: a check must not create the file it looks at.
    connection = sqlite3.connect(f"{path.as_uri()}?mode=rw", uri=True, timeout=timeout)
    try:
        connection.execute("PRAGMA schema_version").fetchone()
    except sqlite3.DatabaseError as error:
        raise ConfigError(
            f"{SETTING}: {str(path)!r} is not a usable SQLite database ({error}); "
            "name a new file or chatops's own database"
        ) from None
    finally:
        connection.close()


def _check_postgresql(url: URL, timeout: float) -> None:
    # libpq counts connect_timeout in whole seconds and treats anything under 2 as 2.
    engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": max(2, round(timeout))})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        detail = _first_line(error)
        if "database" in detail and "does not exist" in detail:
            problem = f"{detail}; create it, or name an existing database"
        elif "role" in detail or "password" in detail or "authentication" in detail:
            problem = f"{detail}; check the user and password in the URL"
        else:
            problem = f"no server answers ({detail}); start it, or correct the host and port"
        raise ConfigError(f"{SETTING}: {_where(url)}: {problem}") from None
    finally:
        engine.dispose()


def _where(url: str | URL) -> str:
    parsed = make_url(normalize_url(url)) if isinstance(url, str) else url
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite at {parsed.database!r}"
    host = parsed.host or "the local socket"
    return f"PostgreSQL at {host}:{parsed.port or 5432}/{parsed.database or ''}"


def _first_line(error: BaseException) -> str:
    # SQLAlchemy wraps the driver's error and appends the statement and a link; psycopg prefixes
    # "connection failed: connection to server at ... failed:" and adds hints on further lines.
    original = getattr(error, "orig", None) or error
    line = next((part.strip() for part in str(original).splitlines() if part.strip()), type(error).__name__)
    return line.rsplit(" failed: ", 1)[-1].removeprefix("FATAL:").strip()

"""The operator's first hour: each start-up mistake is one line naming the setting, exit status 2."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from chatops.store.db import normalize_url
from harness import CONFIG_PATH, SIGNING_SECRET

# The variables chatops reads; a developer's own values must not leak into these runs.
SETTINGS_ENV = {
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "SLACK_TIMEOUT",
    "DATABASE_URL",
    "CHATOPS_CONFIG",
    "MICROSOFT_APP_ID",
    "MICROSOFT_APP_PASSWORD",
    "MICROSOFT_APP_TENANT_ID",
    "TEAMS_OPENID_METADATA_URL",
    "TEAMS_TOKEN_AUTHORITY",
    "CHATOPS_TEAMS_INSECURE",
    "TEAMS_TIMEOUT",
    "JIRA_URL",
    "JIRA_USER",
    "JIRA_API_TOKEN",
    "JIRA_TOKEN",
    "JIRA_WEBHOOK_SECRET",
    "JIRA_TIMEOUT",
}


def _permissions_bind() -> bool:
    # Root (with its usual capabilities) reads and writes past file modes, so those mistakes cannot be made.
    with tempfile.TemporaryDirectory() as folder:
        locked = Path(folder, "locked")
        locked.write_text("")
        locked.chmod(0)
        try:
            locked.read_text()
        except PermissionError:
            return True
        return False


needs_file_permissions = pytest.mark.skipif(
    not _permissions_bind(), reason="this user reads and writes past file permissions"
)


def chatops(cwd: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the real `chatops` command in an empty working directory with exactly these settings."""
    inherited = {key: value for key, value in os.environ.items() if key not in SETTINGS_ENV}
    return subprocess.run(
        [sys.executable, "-m", "chatops", *args],
        env={**inherited, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def ready(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """Settings `serve` would start with, so that only the mistake a test makes can stop it."""
    return {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        # Nothing answers on the discard port: no test may reach the real Slack.
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'chatops.db'}",
        "CHATOPS_CONFIG": str(CONFIG_PATH),
        **overrides,
    }


def refused(done: subprocess.CompletedProcess[str], setting: str) -> str:
    """The one line the operator reads, once it is shown to name the setting and end the command with 2."""
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"chatops: {setting}: "), lines[0]
    return lines[0]


def a_directory(tmp_path: Path) -> str:
    (tmp_path / "data").mkdir()
    return f"sqlite:///{tmp_path / 'data'}"


def under_a_file(tmp_path: Path) -> str:
    (tmp_path / "data").write_text("a file, not a directory\n")
    return f"sqlite:///{tmp_path / 'data' / 'chatops.db'}"


def not_a_database(tmp_path: Path) -> str:
    (tmp_path / "notes.db").write_text("these are notes, not a SQLite database, " * 4)
    return f"sqlite:///{tmp_path / 'notes.db'}"


DATABASE_MISTAKES = [
    pytest.param(
        lambda _: "sqlite:///no/such/dir/chatops.db", "/no/such/dir' does not exist", id="missing directory"
    ),
    pytest.param(a_directory, "/data' is a directory; name a file in it", id="a directory"),
    pytest.param(under_a_file, "/data' is not a directory", id="under a file"),
    pytest.param(not_a_database, "/notes.db' is not a usable SQLite database", id="not a database"),
    pytest.param(lambda _: "sqlite://", "an in-memory SQLite database cannot be shared", id="in memory"),
    pytest.param(
        lambda _: "postgresql://postgres@127.0.0.1:1/x",
        "PostgreSQL at 127.0.0.1:1/x: no server answers",
        id="no server answers",
    ),
    pytest.param(
        lambda _: "mysql://chatops:hunter2@db/chatops", "the scheme 'mysql' is not supported", id="mysql"
    ),
    pytest.param(lambda _: "foo://", "the scheme 'foo' is not supported", id="unknown scheme"),
    pytest.param(lambda _: "chatops.db", "for a SQLite file use sqlite:///chatops.db", id="bare path"),
]
# `db upgrade` runs the same checks; a few of them show it.
UPGRADE_MISTAKES = [
    case for case in DATABASE_MISTAKES if case.id in {"missing directory", "no server answers", "mysql"}
]


@pytest.mark.parametrize(("make_url", "expected"), DATABASE_MISTAKES)
def test_serve_names_a_database_url_it_cannot_use(
    tmp_path: Path, make_url: Callable[[Path], str], expected: str
) -> None:
    done = chatops(tmp_path, "serve", "--port", "0", env=ready(tmp_path, DATABASE_URL=make_url(tmp_path)))

    line = refused(done, "DATABASE_URL")
    assert expected in line
    assert "hunter2" not in line


@pytest.mark.parametrize(("make_url", "expected"), UPGRADE_MISTAKES)
def test_db_upgrade_names_a_database_url_it_cannot_use(
    tmp_path: Path, make_url: Callable[[Path], str], expected: str
) -> None:
    done = chatops(tmp_path, "db", "upgrade", env={"DATABASE_URL": make_url(tmp_path)})

    assert expected in refused(done, "DATABASE_URL")


def test_a_missing_directory_is_named_in_full_with_what_to_do(tmp_path: Path) -> None:
    done = chatops(tmp_path, "serve", env=ready(tmp_path, DATABASE_URL="sqlite:///no/such/dir/chatops.db"))

    assert refused(done, "DATABASE_URL") == (
        f"chatops: DATABASE_URL: the directory '{tmp_path / 'no/such/dir'}' does not exist; "
        "create it, or name a file in another directory"
    )


def test_a_database_directory_that_is_not_writable_is_named(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    # File modes do not bind root; the immutable flag does.
    immutable = not _permissions_bind() and subprocess.run(["chattr", "+i", str(locked)]).returncode == 0
    if not immutable and not _permissions_bind():
        pytest.skip("this user writes past file permissions and cannot mark a directory immutable")
    try:
        done = chatops(
            tmp_path, "serve", env=ready(tmp_path, DATABASE_URL=f"sqlite:///{locked / 'chatops.db'}")
        )
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(locked)], check=True)

    assert f"the directory '{locked}' is not writable" in refused(done, "DATABASE_URL")


def test_db_upgrade_brings_a_good_database_to_the_newest_revision(tmp_path: Path, database_url: str) -> None:
    first = chatops(tmp_path, "db", "upgrade", env={"DATABASE_URL": database_url})
    again = chatops(tmp_path, "db", "upgrade", env={"DATABASE_URL": database_url})

    assert (first.returncode, again.returncode) == (0, 0), first.stderr + again.stderr
    assert first.stdout.startswith("chatops: database at revision ")
    assert again.stdout == first.stdout


def test_db_upgrade_refuses_a_database_holding_someone_elses_tables(
    tmp_path: Path, database_url: str
) -> None:
    engine = create_engine(normalize_url(database_url))
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE invoices (id INTEGER PRIMARY KEY)"))
    engine.dispose()

    done = chatops(tmp_path, "db", "upgrade", env={"DATABASE_URL": database_url})

    assert "holds tables that are not chatops's" in refused(done, "DATABASE_URL")


def test_a_port_already_in_use_is_named(tmp_path: Path, database_url: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        done = chatops(
            tmp_path,
            *("serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "WARNING"),
            env=ready(tmp_path, DATABASE_URL=database_url),
        )

    assert refused(done, "--port") == (
        f"chatops: --port: {port} is already in use on 127.0.0.1; "
        "stop what listens there or choose another --port"
    )


@pytest.mark.parametrize("port", ["99999", "abc"])
def test_a_port_that_cannot_be_is_named(tmp_path: Path, port: str) -> None:
    done = chatops(tmp_path, "serve", "--port", port, env=ready(tmp_path))

    line = refused(done, "--port")
    assert port in line
    assert "use 0 to 65535" in line


def test_an_unknown_log_level_is_named(tmp_path: Path) -> None:
    done = chatops(tmp_path, "serve", "--log-level", "LOUD", env=ready(tmp_path))

    assert "'LOUD' (choose from 'DEBUG', 'INFO', 'WARNING', 'ERROR')" in refused(done, "--log-level")


def test_a_log_level_in_lower_case_is_accepted(tmp_path: Path) -> None:
    # Accepted, so start-up goes on to the next mistake: the database's directory.
    done = chatops(
        tmp_path, "serve", "--log-level", "warning", env=ready(tmp_path, DATABASE_URL="sqlite:///no/x.db")
    )

    refused(done, "DATABASE_URL")


@pytest.mark.parametrize("value", ["abc", "0", "-5"])
def test_a_slack_timeout_that_is_not_a_positive_number_is_named(tmp_path: Path, value: str) -> None:
    done = chatops(tmp_path, "serve", env=ready(tmp_path, SLACK_TIMEOUT=value))

    assert refused(done, "SLACK_TIMEOUT") == (
        f"chatops: SLACK_TIMEOUT: '{value}' is not a positive number of seconds; set it to one such as 10"
    )


def test_a_slack_api_url_that_is_not_a_url_is_named(tmp_path: Path) -> None:
    done = chatops(tmp_path, "serve", env=ready(tmp_path, SLACK_API_URL="slack.com/api"))

    assert "'slack.com/api' is not an http(s) URL" in refused(done, "SLACK_API_URL")


def test_several_bad_variables_are_named_on_one_line(tmp_path: Path) -> None:
    done = chatops(tmp_path, "db", "upgrade", env={"SLACK_TIMEOUT": "0", "SLACK_API_URL": "nowhere"})

    line = refused(done, "SLACK_API_URL")
    assert "; SLACK_TIMEOUT: '0' is not a positive number of seconds" in line


def test_serve_without_a_signing_secret_names_it(tmp_path: Path) -> None:
    done = chatops(tmp_path, "serve", env=ready(tmp_path, SLACK_SIGNING_SECRET=""))

    assert "the bot refuses unsigned requests" in refused(done, "SLACK_SIGNING_SECRET")


def test_socket_mode_without_an_app_token_names_it(tmp_path: Path) -> None:
    done = chatops(tmp_path, "serve", "--socket-mode", env=ready(tmp_path))

    assert "Socket Mode needs an app-level token" in refused(done, "SLACK_APP_TOKEN")


def test_a_config_path_naming_a_directory_is_named(tmp_path: Path) -> None:
    done = chatops(tmp_path, "serve", env=ready(tmp_path, CHATOPS_CONFIG=str(tmp_path)))

    assert f"'{tmp_path}' is a directory" in refused(done, "CHATOPS_CONFIG")


def test_a_config_file_that_does_not_exist_is_named(tmp_path: Path) -> None:
    # Unset, CHATOPS_CONFIG means chatops.yaml in the working directory.
    env = ready(tmp_path)
    del env["CHATOPS_CONFIG"]

    done = chatops(tmp_path, "serve", env=env)

    assert "'chatops.yaml' does not exist" in refused(done, "CHATOPS_CONFIG")


def test_a_config_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "chatops.yaml"
    path.write_bytes(CONFIG_PATH.read_text().replace("Billing", "Facturaci\u00f3n").encode("latin-1"))

    done = chatops(tmp_path, "serve", env=ready(tmp_path, CHATOPS_CONFIG=str(path)))

    assert "is not UTF-8 text (byte 0xf3 at offset" in refused(done, "CHATOPS_CONFIG")


@needs_file_permissions
def test_a_config_file_that_cannot_be_read_is_named(tmp_path: Path) -> None:
    path = tmp_path / "chatops.yaml"
    path.write_text(CONFIG_PATH.read_text())
    path.chmod(0)

    done = chatops(tmp_path, "serve", env=ready(tmp_path, CHATOPS_CONFIG=str(path)))

    assert "cannot be read (permission denied)" in refused(done, "CHATOPS_CONFIG")


def test_a_yaml_syntax_error_names_the_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "chatops.yaml"
    path.write_text(CONFIG_PATH.read_text().replace("agents: [U0BILL1]", "agents: [U0BILL1"))

    done = chatops(tmp_path, "serve", env=ready(tmp_path, CHATOPS_CONFIG=str(path)))

    assert refused(done, str(path)) == (
        f"chatops: {path}: line 13, column 10: not valid YAML: expected ',' or ']', but got ':' "
        "(while parsing a flow sequence at line 12, column 13)"
    )


def test_a_bad_key_in_the_config_is_named_with_its_file(tmp_path: Path) -> None:
    path = tmp_path / "chatops.yaml"
    path.write_text(CONFIG_PATH.read_text().replace("slack_channel: C0SUPPORT", "slack_channel: '#support'"))

    done = chatops(tmp_path, "serve", env=ready(tmp_path, CHATOPS_CONFIG=str(path)))

    assert "teams[0].slack_channel: '#support' is not a channel id" in refused(done, str(path))


def test_version_names_the_installed_package(tmp_path: Path) -> None:
    done = chatops(tmp_path, "--version", env={})

    assert done.returncode == 0
    assert done.stdout == f"chatops {version('chatops')}\n"


def test_serve_help_shows_defaults_and_the_environment_it_reads(tmp_path: Path) -> None:
    done = chatops(tmp_path, "serve", "--help", env={})

    assert done.returncode == 0
    lines = done.stdout.splitlines()
    for default in ("(default: 0.0.0.0)", "(default: INFO)"):
        assert any(default in line for line in lines), default
    assert "(default: 3000)" in " ".join(done.stdout.split())
    for name in sorted(SETTINGS_ENV):
        described = [line for line in lines if line.startswith(f"  {name} ")]
        assert len(described) == 1, name
    assert any("(default: sqlite:///chatops.db)" in line for line in lines if "DATABASE_URL" in line)


def test_teams_package_writes_the_zip_to_upload(tmp_path: Path) -> None:
    done = chatops(
        tmp_path,
        "teams",
        "package",
        "--app-id",
        "6F1C2A9E-1B7D-4C39-9A57-0E3B8D2F4A11",
        "--out",
        "app.zip",
        env={},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("chatops: wrote app.zip")
    with zipfile.ZipFile(tmp_path / "app.zip") as package:
        manifest = json.loads(package.read("manifest.json"))
    assert manifest["bots"][0]["botId"] == "6f1c2a9e-1b7d-4c39-9a57-0e3b8d2f4a11"


def test_teams_package_with_a_bad_app_id_names_it(tmp_path: Path) -> None:
    done = chatops(tmp_path, "teams", "package", "--app-id", "my-bot", env={})
    assert "'my-bot'" in refused(done, "--app-id")
    assert not (tmp_path / "chatops-teams.zip").exists()


def test_teams_package_to_a_place_it_cannot_write_names_it(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file, not a folder")
    app_id = "6f1c2a9e-1b7d-4c39-9a57-0e3b8d2f4a11"
    done = chatops(tmp_path, "teams", "package", "--app-id", app_id, "--out", "taken/app.zip", env={})
    assert "cannot write 'taken/app.zip'" in refused(done, "--out")


@pytest.mark.parametrize(
    ("missing", "where"),
    [("MICROSOFT_APP_PASSWORD", "client secret"), ("MICROSOFT_APP_TENANT_ID", "tenant")],
)
def test_teams_half_configured_names_what_is_missing(tmp_path: Path, missing: str, where: str) -> None:
    teams = {
        "MICROSOFT_APP_ID": "00000000-0000-4000-8000-00000000a11d",
        "MICROSOFT_APP_PASSWORD": "secret",
        "MICROSOFT_APP_TENANT_ID": "00000000-0000-4000-8000-0000000007e1",
        missing: "",
    }
    done = chatops(tmp_path, "serve", env=ready(tmp_path, **teams))

    assert where in refused(done, missing).lower()


def test_the_unchecked_teams_emulator_mode_is_refused_beyond_loopback(tmp_path: Path) -> None:
    done = chatops(tmp_path, "serve", "--host", "0.0.0.0", env=ready(tmp_path, CHATOPS_TEAMS_INSECURE="1"))

    assert "--host 127.0.0.1" in refused(done, "CHATOPS_TEAMS_INSECURE")


def test_a_teams_metadata_url_that_is_not_https_is_named(tmp_path: Path) -> None:
    env = ready(tmp_path, TEAMS_OPENID_METADATA_URL="http://login.example/keys")
    done = chatops(tmp_path, "serve", env=env)

    assert "not an https URL" in refused(done, "TEAMS_OPENID_METADATA_URL")

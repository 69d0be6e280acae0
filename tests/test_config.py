"""Configuration: the documented file loads; a bad one is refused at start-up naming the file and key."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from chatops.config import load_desk_config
from chatops.errors import ConfigError
from harness import CONFIG_PATH


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "chatops.yaml"
    path.write_text(text)
    return path


def test_the_documented_config_loads() -> None:
    config = load_desk_config(CONFIG_PATH)

    assert [t.id for t in config.teams] == ["support", "billing"]
    assert config.priority("urgent").first_response == timedelta(minutes=15)
    assert config.priority("low").resolution == timedelta(days=7)
    assert config.vip_users == ["U0VIP"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("default_team: support", "default_team: sales"), "default_team: 'sales' is not one of the teams"),
        (
            ("first_response: 15m", "first_response: soon"),
            "priorities[0].first_response: 'soon' is not a duration",
        ),
        (("team: billing}", "team: finance}"), "categories[0].team: 'finance' is not one of the teams"),
        (
            ("default_priority: normal", "default_priority: meh"),
            "default_priority: 'meh' is not one of the priorities",
        ),
        (("    slack_channel: C0BILLING\n", ""), "teams[1].slack_channel: Field required"),
        (
            ("vip_users: [U0VIP]", "vip_users: [U0VIP]\nvip_user: [U0X]"),
            "vip_user: Extra inputs are not permitted",
        ),
        (("  - id: billing\n    name", "  - id: support\n    name"), "teams[1].id: 'support' is used twice"),
        (("command: /ticket", "command: ticket"), "slack.command: String should match pattern"),
    ],
)
def test_a_bad_config_names_the_file_and_the_key(tmp_path: Path, edit: tuple[str, str], message: str) -> None:
    original = CONFIG_PATH.read_text()
    assert edit[0] in original
    path = write(tmp_path, original.replace(edit[0], edit[1], 1))

    with pytest.raises(ConfigError) as refused:
        load_desk_config(path)

    assert str(refused.value).startswith(f"{path}: ")
    assert message in str(refused.value)


def test_a_missing_or_unreadable_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_desk_config(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_desk_config(write(tmp_path, "teams: [unclosed"))


def run_serve(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chatops", "serve", "--port", "0"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_serve_refuses_to_start_on_a_bad_config(tmp_path: Path, database_url: str) -> None:
    path = write(tmp_path, CONFIG_PATH.read_text().replace("default_team: support", "default_team: sales"))

    done = run_serve({"CHATOPS_CONFIG": str(path), "SLACK_SIGNING_SECRET": "s", "DATABASE_URL": database_url})

    assert done.returncode == 2
    assert (
        done.stderr.strip()
        == f"chatops: {path}: default_team: 'sales' is not one of the teams ['billing', 'support']"
    )


def test_serve_refuses_to_start_without_a_signing_secret(database_url: str) -> None:
    done = run_serve(
        {"CHATOPS_CONFIG": str(CONFIG_PATH), "SLACK_SIGNING_SECRET": "", "DATABASE_URL": database_url}
    )

    assert done.returncode == 2
    assert "SLACK_SIGNING_SECRET is not set" in done.stderr

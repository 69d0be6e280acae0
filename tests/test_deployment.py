"""The deployment files: image, compose stack, systemd unit, TLS proxy and .env example."""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from fnmatch import fnmatch
from pathlib import Path

import pytest
import yaml

from adapters.slack.devkit.standin import SlackStandIn
from chatops.config.settings import Settings
from harness import CONFIG_PATH

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
ENV_EXAMPLE = ROOT / ".env.example"
UNIT = ROOT / "deploy" / "chatops.service"
CADDYFILE = ROOT / "deploy" / "Caddyfile"
MANIFEST = ROOT / "adapters" / "slack" / "manifest.yaml"
EXAMPLE_CONFIG = ROOT / "adapters" / "slack" / "demo.yaml"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

# The environment variables chatops reads: pydantic-settings maps each field to its upper-case name.
SETTINGS_ENV = {name.upper() for name in Settings.model_fields}
# Read by Docker Compose alone (the database's password), never by chatops.
COMPOSE_ONLY_ENV = {"POSTGRES_PASSWORD"}
# The secrets compose must refuse to start without.
REQUIRED_ENV = ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "POSTGRES_PASSWORD"]
# Where this test suite's `chatops` command lives (the image and the unit install their own).
CHATOPS_BIN = Path(sys.executable).with_name("chatops")

INSTALL_COMPOSE = (
    "install one: `apt-get install docker-compose` (Debian), or the Docker Compose plugin with Docker; "
    "`.ci/run` installs it when missing"
)


# --- reading the files ------------------------------------------------------------------------------


def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, rest = (pending + stripped).partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        pending = ""
    return instructions


def instruction(keyword: str) -> list[str]:
    """The arguments of every instruction with this keyword, in order."""
    return [rest for key, rest in dockerfile() if key == keyword]


def image_command() -> list[str]:
    """The image's CMD, which must be in exec (JSON) form."""
    (cmd,) = instruction("CMD")
    return json.loads(cmd)


def healthcheck_command() -> list[str]:
    """The image's HEALTHCHECK command (exec form, after its options)."""
    (check,) = instruction("HEALTHCHECK")
    _, _, command = check.partition("CMD ")
    return json.loads(command)


def copied_sources() -> list[str]:
    """What the Dockerfile copies from the build context."""
    return [source for copy in instruction("COPY") for source in copy.split()[:-1]]


def env_example() -> dict[str, str]:
    """The KEY=value lines of .env.example."""
    values = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    return values


def unit() -> configparser.ConfigParser:
    """The systemd unit, read as the INI file it is (keys keep their case)."""
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text(encoding="utf-8"))
    return parser


def option(argv: list[str], name: str) -> str:
    """The value after `name` in a command line."""
    return argv[argv.index(name) + 1]


def with_port(argv: list[str], port: int) -> list[str]:
    """The same command line, listening on `port` instead."""
    index = argv.index("--port") + 1
    return [*argv[:index], str(port), *argv[index + 1 :]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- running the commands the deployment files run -------------------------------------------------


def app_env(database_url: str, slack_url: str) -> dict[str, str]:
    """A clean environment built from .env.example, pointed at a test database and the Slack stand-in."""
    return {
        "PATH": os.environ.get("PATH", ""),
        **env_example(),
        "DATABASE_URL": database_url,
        "CHATOPS_CONFIG": str(CONFIG_PATH),
        "SLACK_API_URL": slack_url,
    }


def health(url: str) -> int:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=5) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


@contextmanager
def serving(argv: list[str], env: dict[str, str], log: Path, port: int) -> Iterator[str]:
    """Run a `chatops serve` command line until /healthz answers; stop it with SIGTERM afterwards."""
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as output:
        process = subprocess.Popen(argv, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"{argv} exited: {log.read_text()}"
            try:
                if health(url) == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"{argv} never answered /healthz: {log.read_text()}"
            time.sleep(0.2)
        yield url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    # A stop from Docker or systemd is a SIGTERM: serve must end cleanly on it.
    assert process.returncode == 0, log.read_text()


def installed(argv: list[str]) -> list[str]:
    """A deployed command line run with this test suite's `chatops` instead of the deployed one."""
    assert Path(argv[0]).name == "chatops", argv
    return [str(CHATOPS_BIN), *argv[1:]]


# --- the image ---------------------------------------------------------------------------------------


def test_the_image_runs_chatops_serve_as_an_unprivileged_user() -> None:
    command = image_command()

    assert command[:2] == ["chatops", "serve"]
    assert "chatops" in PYPROJECT["project"]["scripts"]
    # No ENTRYPOINT, so `docker compose run --rm chatops chatops db upgrade` runs exactly that command.
    assert instruction("ENTRYPOINT") == []
    assert instruction("USER")[-1] not in {"root", "0", "0:0"}
    assert re.fullmatch(r"python:3\.1[1-9][\w.-]*", instruction("FROM")[0])
    port = option(command, "--port")
    assert instruction("EXPOSE") == [port]
    (check,) = instruction("HEALTHCHECK")
    assert f"127.0.0.1:{port}/healthz" in check


def test_the_image_is_built_from_everything_the_package_needs() -> None:
    needed = {"pyproject.toml", PYPROJECT["project"]["readme"]}
    needed |= {
        pattern.rstrip("*") for pattern in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    copied = set(copied_sources())
    ignored = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]

    assert needed <= copied
    assert all((ROOT / name).exists() for name in copied)
    assert [name for name in needed if any(fnmatch(name, pattern) for pattern in ignored)] == []
    # Neither the secrets nor the desk's rules are baked into the image.
    assert {".env", "chatops.yaml"} <= set(ignored)


def test_the_image_command_serves_and_its_health_check_passes(
    tmp_path: Path, database_url: str, standin: SlackStandIn
) -> None:
    port = free_port()
    # Inside a container serve listens on every interface; here it stays on loopback.
    argv = [*installed(with_port(image_command(), port)), "--host", "127.0.0.1"]
    check = [sys.executable if part == "python" else part for part in healthcheck_command()]
    check = [part.replace("127.0.0.1:3000", f"127.0.0.1:{port}") for part in check]

    with serving(argv, app_env(database_url, standin.base_url), tmp_path / "serve.log", port):
        healthy = subprocess.run(check, capture_output=True, text=True, timeout=30)
    stopped = subprocess.run(check, capture_output=True, text=True, timeout=30)

    assert healthy.returncode == 0, healthy.stderr
    assert stopped.returncode != 0


# --- the compose stack -------------------------------------------------------------------------------


def compose_command() -> list[str]:
    """`docker compose` where the plugin is installed, else the standalone `docker-compose`."""
    if shutil.which("docker"):
        plugin = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30)
        if plugin.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.fail(f"no Docker Compose to check compose.yaml with; {INSTALL_COMPOSE}")


def compose_config(env_file: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """`docker compose config`: validates compose.yaml, resolves .env into it, prints the result."""
    return subprocess.run(
        [*compose_command(), "--env-file", str(env_file), "-f", str(COMPOSE), "config"],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_compose_accepts_the_file_with_the_env_example(tmp_path: Path) -> None:
    done = compose_config(ENV_EXAMPLE, tmp_path)
    assert done.returncode == 0, done.stderr
    resolved = yaml.safe_load(done.stdout)["services"]
    raw = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    app, db = raw["services"]["chatops"], raw["services"]["db"]
    config_path = resolved["chatops"]["environment"]["CHATOPS_CONFIG"]

    assert set(resolved) == {"db", "chatops"}
    assert set(resolved["chatops"]["environment"]) == SETTINGS_ENV
    assert resolved["chatops"]["environment"]["DATABASE_URL"] == (
        f"postgresql://chatops:{env_example()['POSTGRES_PASSWORD']}@db:5432/chatops"
    )
    assert resolved["chatops"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert app["build"] == "." and app["restart"] in {"always", "unless-stopped", "on-failure"}
    assert f"./chatops.yaml:{config_path}:ro" in app["volumes"]
    assert ["ENV", f"CHATOPS_CONFIG={config_path}"] in [[k, v] for k, v in dockerfile()]
    assert app["ports"] == [f"127.0.0.1:3000:{option(image_command(), '--port')}"]
    assert re.fullmatch(r"postgres:1[56][\w.-]*", db["image"])
    assert "pg_isready" in db["healthcheck"]["test"]
    volume = db["volumes"][0].split(":")[0]
    assert volume in raw["volumes"] and db["volumes"][0].endswith(":/var/lib/postgresql/data")


@pytest.mark.parametrize("missing", REQUIRED_ENV)
def test_compose_refuses_an_env_file_without_a_secret(tmp_path: Path, missing: str) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "".join(f"{key}={value}\n" for key, value in env_example().items() if key != missing),
        encoding="utf-8",
    )

    done = compose_config(env_file, tmp_path)

    assert done.returncode != 0
    assert f"set {missing} in .env" in done.stderr


def docker_engine() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=60).returncode == 0


@pytest.mark.skipif(not docker_engine(), reason="no Docker engine answers `docker info`")
def test_the_compose_stack_builds_upgrades_and_answers_healthz(tmp_path: Path) -> None:
    project = tmp_path / "stack"
    project.mkdir()
    for name in ["Dockerfile", ".dockerignore", *copied_sources()]:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, project / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(ROOT / name, project / name)
    published = "127.0.0.1:3000:3000"
    compose_text = COMPOSE.read_text(encoding="utf-8")
    assert published in compose_text
    # Let Docker pick the host port, so a busy port 3000 on this machine does not matter.
    (project / "compose.yaml").write_text(
        compose_text.replace(published, "127.0.0.1::3000"), encoding="utf-8"
    )
    shutil.copy(ENV_EXAMPLE, project / ".env")
    shutil.copy(CONFIG_PATH, project / "chatops.yaml")
    compose = [*compose_command(), "-p", f"chatops-test-{uuid.uuid4().hex[:8]}"]

    def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*compose, *args], cwd=project, capture_output=True, text=True, timeout=timeout)

    try:
        built = run("build", timeout=1200)
        assert built.returncode == 0, built.stderr
        upgraded = run("run", "--rm", "chatops", "chatops", "db", "upgrade", timeout=300)
        assert upgraded.returncode == 0, upgraded.stderr
        assert "database at revision" in upgraded.stdout
        started = run("up", "-d", timeout=300)
        assert started.returncode == 0, started.stderr
        address = run("port", "chatops", "3000").stdout.strip()
        url = "http://" + address.replace("0.0.0.0", "127.0.0.1")
        deadline = time.monotonic() + 120
        status = 0
        while status != 200 and time.monotonic() < deadline:
            time.sleep(1)
            try:
                status = health(url)
            except OSError:
                status = 0
        assert status == 200, run("logs").stdout
        assert run("exec", "-T", "chatops", "id", "-u").stdout.strip() != "0"
    finally:
        run("down", "-v", "--rmi", "local", "--remove-orphans", timeout=300)


# --- the .env example --------------------------------------------------------------------------------


def test_the_env_example_names_every_setting_with_a_comment() -> None:
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    assignments = [index for index, line in enumerate(lines) if line.strip() and not line.startswith("#")]
    keys = [lines[index].partition("=")[0] for index in assignments]
    uncommented = [
        lines[index] for index in assignments if index == 0 or not lines[index - 1].startswith("#")
    ]
    interpolated = set(re.findall(r"\$\{(\w+)", COMPOSE.read_text(encoding="utf-8")))
    values = env_example()

    assert len(keys) == len(set(keys))
    assert set(keys) == SETTINGS_ENV | COMPOSE_ONLY_ENV
    assert uncommented == []
    assert interpolated <= set(keys)
    settings = Settings(**{key.lower(): value for key, value in values.items() if key in SETTINGS_ENV})
    assert settings.slack_timeout == 10.0 and settings.slack_bot_token.startswith("xoxb-")
    # Secrets stay out of git and out of the image.
    assert ".env" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()


# --- the systemd unit --------------------------------------------------------------------------------


def test_the_systemd_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    if not shutil.which("systemd-analyze"):
        pytest.fail("no systemd-analyze: `apt-get install systemd`; `.ci/run` installs it when missing")
    service = unit()["Service"]
    deployed = shlex.split(service["ExecStart"])[0]
    # verify checks that the program exists: point the unit at this suite's chatops instead.
    copy = tmp_path / "chatops.service"
    copy.write_text(UNIT.read_text(encoding="utf-8").replace(deployed, str(CHATOPS_BIN)), encoding="utf-8")

    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(copy)], capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stderr
    # Unknown keys and bad values are only warnings to systemd, which then ignores them.
    assert done.stdout + done.stderr == ""


def test_the_systemd_unit_runs_hardened_as_its_own_user() -> None:
    service = unit()["Service"]
    writable = service.get("ReadWritePaths", "").split()
    if "StateDirectory" in service:
        writable.append(f"/var/lib/{service['StateDirectory']}")

    assert service["User"] not in {"root", "0"}
    assert service["EnvironmentFile"].startswith("/")
    assert service["Restart"] == "on-failure"
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["PrivateTmp"] == "yes"
    assert service["WorkingDirectory"] in writable
    assert unit()["Install"]["WantedBy"] == "multi-user.target"


def test_the_systemd_unit_upgrades_the_database_then_serves(
    tmp_path: Path, database_url: str, standin: SlackStandIn
) -> None:
    service = unit()["Service"]
    upgrade, serve = shlex.split(service["ExecStartPre"]), shlex.split(service["ExecStart"])
    env = app_env(database_url, standin.base_url)
    port = free_port()

    upgraded = subprocess.run(installed(upgrade), env=env, capture_output=True, text=True, timeout=120)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "database at revision" in upgraded.stdout
    assert upgrade[0] == serve[0] and upgrade[1:] == ["db", "upgrade"]
    assert option(serve, "--host") == "127.0.0.1"
    with serving(installed(with_port(serve, port)), env, tmp_path / "serve.log", port) as url:
        assert health(url) == 200


# --- TLS in front, and the Slack app's URLs ----------------------------------------------------------


def test_the_tls_proxy_forwards_slacks_requests_to_the_served_port() -> None:
    caddy = CADDYFILE.read_text(encoding="utf-8")
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    settings = manifest["settings"]
    request_urls = [
        *(command["url"] for command in manifest["features"]["slash_commands"]),
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
    ]
    site = re.search(r"^(\S+) \{", caddy, re.MULTILINE)
    upstreams = set(re.findall(r"reverse_proxy\s+(\S+)", caddy))
    unit_serve = shlex.split(unit()["Service"]["ExecStart"])
    served_ports = {option(image_command(), "--port"), option(unit_serve, "--port")}

    assert site is not None
    assert {url.removeprefix("https://").partition("/")[0] for url in request_urls} == {site.group(1)}
    assert {url.partition("://")[2].partition("/")[2] for url in request_urls} == {"slack/events"}
    assert "handle /slack/events {" in caddy
    # Teams' messaging endpoint, as the README has it set on the Azure Bot.
    assert "handle /api/messages {" in caddy
    # Jira's webhook, as the README has it set in Jira.
    assert "handle /jira/webhook {" in caddy
    assert upstreams == {f"127.0.0.1:{port}" for port in served_ports}
    # The slash command in the manifest is the one the desk's rules answer to.
    assert (
        manifest["features"]["slash_commands"][0]["command"]
        == (yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))["slack"]["command"])
    )

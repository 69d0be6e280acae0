"""Loading the desk's rules from their YAML file; every mistake is one line naming the file and the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from chatops.config.rules import DeskConfig
from chatops.errors import ConfigError


def load_desk_config(path: str | Path) -> DeskConfig:
    """Load and validate the YAML rules; a ConfigError names the file and the offending key."""
    path = Path(path)
    text = _read_rules(path)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: {_describe_yaml_error(exc, text)}") from None
    if raw is None:
        raise ConfigError(
            f"{path}: the file is empty; it must hold the desk's rules (teams, priorities, ...)"
        )
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys (teams, categories, ...)")
    try:
        return DeskConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: " + "; ".join(_describe(e) for e in exc.errors())) from None


def _read_rules(path: Path) -> str:
    # The file is named by CHATOPS_CONFIG, so a file that cannot be read is that setting's mistake.
    where = f"CHATOPS_CONFIG: {str(path)!r}"
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{where} does not exist; write the desk's rules there or set CHATOPS_CONFIG to their file"
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"{where} is a directory; set CHATOPS_CONFIG to the YAML file in it") from None
    except PermissionError:
        raise ConfigError(
            f"{where} cannot be read (permission denied); let the user running chatops read it"
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{where} is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); "
            "save it as UTF-8"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{where} cannot be read: {exc.strerror or exc}") from None


def _describe_yaml_error(error: yaml.YAMLError, text: str) -> str:
    # PyYAML's own message names the parsed text "<unicode string>" and spans several lines; the
    # operator needs the line and column in their file, on one line.
    if isinstance(error, yaml.reader.ReaderError):
        line = text.count("\n", 0, error.position) + 1
        column = error.position - (text.rfind("\n", 0, error.position) + 1) + 1
        code = error.character if isinstance(error.character, int) else ord(error.character)
        return f"line {line}, column {column}: not valid YAML: the character U+{code:04X} is not allowed"
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        message = f"{_at(error.problem_mark)}: not valid YAML: {error.problem}"
        if error.context:
            message += f" ({error.context}"
            message += f" at {_at(error.context_mark)})" if error.context_mark is not None else ")"
        return message
    return f"not valid YAML: {' '.join(str(error).split())}"


def _at(mark: yaml.Mark) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}"


def _describe(error: Any) -> str:
    location = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"]).lstrip(
        "."
    )
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{location}: {message}" if location else message

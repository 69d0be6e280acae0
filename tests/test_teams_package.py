"""The Teams app package: a zip whose manifest passes Microsoft's schema, with icons Teams accepts."""

from __future__ import annotations

import json
import re
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest
from jsonschema.validators import validator_for
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT4

from adapters.teams.package import build_package

APP_ID = "6F1C2B3A-9D8E-4F70-A1B2-C3D4E5F60718"
SCHEMAS = Path(__file__).parent / "node" / "node_modules" / "@microsoft" / "app-manifest" / "build"
SCHEMAS = SCHEMAS / "json-schemas" / "teams"
INSTALL = "npm ci --prefix tests/node"
# Where Microsoft publishes the schemas; any reference there is read from the npm package's copy instead.
PUBLISHED = re.compile(r"https?://developer\.microsoft\.com/(?:[a-z]{2}-[a-z]{2}/)?json-schemas/teams/(.+)")


def _package(tmp_path: Path, name: str = "chatops-teams.zip", **options: Any) -> dict[str, bytes]:
    path = build_package(APP_ID, tmp_path / name, **options)
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _schema_validator(manifest_version: str) -> Any:
    path = SCHEMAS / f"v{manifest_version}" / "MicrosoftTeams.schema.json"
    if not path.is_file():
        # Failing, not skipping: a manifest nobody checked must not pass for one that was.
        pytest.fail(f"the Teams manifest schema v{manifest_version} is not installed: run `{INSTALL}`")
    schema = json.loads(path.read_text(encoding="utf-8"))

    def retrieve(uri: str) -> Resource:
        # No network in tests: a referenced schema must come from the package's files.
        match = PUBLISHED.fullmatch(uri)
        local = SCHEMAS / match.group(1) if match else None
        if local is None or not local.is_file():
            raise NoSuchResource(ref=uri)
        return Resource.from_contents(json.loads(local.read_text(encoding="utf-8")), DRAFT4)

    cls = validator_for(schema)
    return cls(schema, registry=Registry(retrieve=retrieve))


def _errors(manifest: dict[str, Any]) -> list[str]:
    validator = _schema_validator(manifest["manifestVersion"])
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(manifest)]


def _png(data: bytes) -> tuple[int, int, int, int, bytes]:
    """Width, height, bit depth, colour type and the inflated image data of a PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    chunks: list[tuple[bytes, bytes]] = []
    at = 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        assert struct.unpack(">I", data[at + 8 + length : at + 12 + length])[0] == zlib.crc32(kind + body)
        chunks.append((kind, body))
        at += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert interlace == 0
    return width, height, depth, colour, zlib.decompress(b"".join(b for k, b in chunks if k == b"IDAT"))


def _rgba_pixels(width: int, height: int, raw: bytes) -> list[bytes]:
    """Undo the PNG row filters of 8-bit RGBA data; one 4-byte pixel per entry."""
    stride, pixels, above = width * 4, [], bytearray(width * 4)
    for y in range(height):
        kind, row = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = row[i - 4] if i >= 4 else 0
            up, corner = above[i], above[i - 4] if i >= 4 else 0
            if kind == 1:
                row[i] = (row[i] + left) & 0xFF
            elif kind == 2:
                row[i] = (row[i] + up) & 0xFF
            elif kind == 3:
                row[i] = (row[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                row[i] = (row[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        pixels += [bytes(row[x : x + 4]) for x in range(0, stride, 4)]
        above = row
    return pixels


def test_the_package_holds_the_manifest_and_icons_at_its_root(tmp_path: Path) -> None:
    files = _package(tmp_path)
    assert sorted(files) == ["color.png", "manifest.json", "outline.png"]
    manifest = json.loads(files["manifest.json"])
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}


def test_the_bot_app_id_is_filled_in(tmp_path: Path) -> None:
    manifest = json.loads(_package(tmp_path)["manifest.json"])
    assert manifest["id"] == APP_ID.lower()
    assert [bot["botId"] for bot in manifest["bots"]] == [APP_ID.lower()]
    assert "00000000-0000-0000-0000-000000000000" not in json.dumps(manifest)


def test_the_manifest_validates_against_microsofts_schema(tmp_path: Path) -> None:
    manifest = json.loads(_package(tmp_path)["manifest.json"])
    assert _errors(manifest) == []
    # Draft-04 has no `const`, so the version pin the schema states is checked here.
    schema_file = SCHEMAS / f"v{manifest['manifestVersion']}" / "MicrosoftTeams.schema.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    assert manifest["manifestVersion"] == schema["properties"]["manifestVersion"]["const"]
    assert manifest["$schema"].endswith(f"/teams/v{manifest['manifestVersion']}/MicrosoftTeams.schema.json")
    # The check has teeth: a scope Teams does not know is reported.
    manifest["bots"][0]["scopes"] = ["everyone"]
    assert any("bots/0/scopes/0" in error for error in _errors(manifest))


def test_the_bot_serves_personal_team_and_group_chats(tmp_path: Path) -> None:
    bot = json.loads(_package(tmp_path)["manifest.json"])["bots"][0]
    assert sorted(bot["scopes"]) == ["groupChat", "personal", "team"]
    assert bot["isNotificationOnly"] is False and bot["supportsFiles"] is False
    for command_list in bot["commandLists"]:
        titles = [command["title"] for command in command_list["commands"]]
        assert titles == ["ticket", "status", "list", "list open", "help"]
    assert sorted(s for command_list in bot["commandLists"] for s in command_list["scopes"]) == sorted(
        bot["scopes"]
    )


def test_the_icons_are_the_sizes_teams_requires(tmp_path: Path) -> None:
    files = _package(tmp_path)
    width, height, depth, colour, _ = _png(files["color.png"])
    assert (width, height, depth) == (192, 192, 8) and colour in (2, 6)  # full colour, RGB or RGBA
    width, height, depth, colour, _ = _png(files["outline.png"])
    assert (width, height, depth, colour) == (32, 32, 8, 6)  # RGBA, for its transparency


def test_the_outline_icon_is_white_on_transparent(tmp_path: Path) -> None:
    width, height, _, _, raw = _png(_package(tmp_path)["outline.png"])
    pixels = _rgba_pixels(width, height, raw)
    assert not [p for p in pixels if p[3] and p[:3] != b"\xff\xff\xff"], "outline pixels that are not white"
    assert any(p[3] == 255 for p in pixels) and any(p[3] == 0 for p in pixels)


@pytest.mark.parametrize(
    "app_id",
    [
        "",
        "not-a-guid",
        "{6f1c2b3a-9d8e-4f70-a1b2-c3d4e5f60718}",
        "6f1c2b3a9d8e4f70a1b2c3d4e5f60718",
        "6f1c2b3a-9d8e-4f70-a1b2-c3d4e5f60718\n",
        "00000000-0000-0000-0000-000000000000",
    ],
)
def test_a_bad_app_id_is_refused_in_one_line(tmp_path: Path, app_id: str) -> None:
    with pytest.raises(ValueError) as refused:
        build_package(app_id, tmp_path / "out.zip")
    message = str(refused.value)
    assert "--app-id" in message and "\n" not in message
    assert not (tmp_path / "out.zip").exists()


def test_the_same_inputs_give_the_same_bytes(tmp_path: Path) -> None:
    first = build_package(APP_ID, tmp_path / "a" / "first.zip").read_bytes()
    second = build_package(APP_ID, tmp_path / "b" / "second.zip").read_bytes()
    assert first == second
    assert build_package(APP_ID, tmp_path / "c.zip", version="1.0.1").read_bytes() != first


def test_the_version_and_site_can_be_set(tmp_path: Path) -> None:
    manifest = json.loads(
        _package(tmp_path, version="2.3.4", site_url="https://desk.example.org/")["manifest.json"]
    )
    assert manifest["version"] == "2.3.4"
    assert manifest["developer"]["privacyUrl"] == "https://desk.example.org/privacy"
    assert _errors(manifest) == []
    for bad in ({"version": "1.0"}, {"version": "v1.0.0"}, {"site_url": "http://desk.example.org"}):
        with pytest.raises(ValueError, match=r"^--(version|site-url): "):
            build_package(APP_ID, tmp_path / "bad.zip", **bad)


def test_the_app_asks_to_read_its_teams_channel_messages_for_replies_under_cards(tmp_path: Path) -> None:
    manifest = json.loads(_package(tmp_path)["manifest.json"])

    assert manifest["webApplicationInfo"]["id"] == APP_ID.lower()
    assert {"name": "ChannelMessage.Read.Group", "type": "Application"} in manifest["authorization"][
        "permissions"
    ]["resourceSpecific"]

"""The Teams app package: the manifest with the bot's app id filled in, zipped with its two icons."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

MANIFEST_DIR = Path(__file__).with_name("manifest")
ICONS = ("color.png", "outline.png")
DEFAULT_OUT = Path("chatops-teams.zip")
# The manifest in the repository carries this placeholder; a package must never ship it.
PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000"
PLACEHOLDER_SITE = "https://chatops.example.com"

_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
# Teams wants MAJOR.MINOR.PATCH, digits only, and a higher one for every upload of a changed package.
_VERSION = re.compile(r"(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)")
# Fixed zip metadata, so the same inputs give the same bytes whatever the clock, umask or platform.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_ZIP_MODE = 0o644 << 16
_ZIP_UNIX = 3


def build_package(
    app_id: str, out: Path = DEFAULT_OUT, *, version: str | None = None, site_url: str | None = None
) -> Path:
    """Write the Teams app package for the bot with this Microsoft App ID to `out`, and return `out`."""
    manifest = load_manifest()
    fill_manifest(manifest, app_id, version=version, site_url=site_url)
    files = {"manifest.json": _manifest_bytes(manifest)}
    files.update({name: (MANIFEST_DIR / name).read_bytes() for name in ICONS})
    data = _zip(files)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    return out


def load_manifest() -> dict[str, Any]:
    """The manifest template as it is in the repository, placeholders and all."""
    return json.loads((MANIFEST_DIR / "manifest.json").read_text(encoding="utf-8"))


def fill_manifest(
    manifest: dict[str, Any], app_id: str, *, version: str | None = None, site_url: str | None = None
) -> None:
    """Put the app id (and optionally the version and the developer's site) into the manifest."""
    app_id = _check_app_id(app_id)
    # Teams takes the app's own id from the manifest; using the bot's id for it too keeps one id to manage.
    manifest["id"] = app_id
    manifest["bots"][0]["botId"] = app_id
    # Reading a team's channel messages without an @mention (replies under the cards) is granted to the
    # app itself, by resource-specific consent when the team adds it.
    manifest["webApplicationInfo"]["id"] = app_id
    if version is not None:
        if not _VERSION.fullmatch(version):
            raise ValueError(f"--version: must be MAJOR.MINOR.PATCH in digits, like 1.2.0; got {version!r}")
        manifest["version"] = version
    if site_url is not None:
        if not site_url.startswith("https://") or any(c.isspace() for c in site_url):
            raise ValueError(f"--site-url: must be an https:// URL; got {site_url!r}")
        developer = manifest["developer"]
        for key in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
            developer[key] = developer[key].replace(PLACEHOLDER_SITE, site_url.rstrip("/"), 1)


def _check_app_id(app_id: str) -> str:
    # The repr keeps a pasted newline or stray quote visible while the message stays on one line.
    if not _GUID.fullmatch(app_id):
        raise ValueError(
            f"--app-id: must be the bot's Microsoft App ID, a GUID like "
            f"12345678-90ab-cdef-1234-567890abcdef; got {app_id!r}"
        )
    if app_id == PLACEHOLDER_ID:
        raise ValueError("--app-id: must be the bot's Microsoft App ID, not the all-zero placeholder")
    return app_id.lower()


def _manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _zip(files: dict[str, bytes]) -> bytes:
    # Teams reads manifest.json and the icons from the zip's root only, so no folders go in.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = _ZIP_MODE
            info.create_system = _ZIP_UNIX
            archive.writestr(info, data, compresslevel=9)
    return buffer.getvalue()

"""What a message posted or updated through the Web API may carry, checked and linked as Slack does."""

import copy
from collections.abc import Mapping
from typing import Any

from adapters.slack.blocks import escape
from adapters.slack.devkit.arguments import flag
from adapters.slack.devkit.parsing import auto_parse, mrkdwn_objects
from adapters.slack.devkit.refusal import Refusal

MAX_BLOCKS = 50
MAX_TEXT = 40_000
MAX_ELEMENTS = 25
MAX_OPTIONS = 100


def message_content(params: dict[str, Any], channels: Mapping[str, str]) -> dict[str, Any]:
    """A message's text, blocks, attachments and metadata from a call; `channels` names channels by id."""
    text, blocks = params.get("text") or "", params.get("blocks")
    if not text and not blocks and not params.get("attachments"):
        raise Refusal("no_text")
    if blocks is not None and not isinstance(blocks, list):
        raise Refusal("invalid_blocks_format")
    if len(blocks or []) > MAX_BLOCKS:
        raise Refusal("invalid_blocks")
    if len(text) > MAX_TEXT:
        raise Refusal("msg_too_long")
    for block in blocks or []:
        _check_elements(block)
    content: dict[str, Any] = {"text": text, "blocks": copy.deepcopy(blocks or [])}
    _parse(params, content, channels)
    if params.get("attachments"):
        content["attachments"] = copy.deepcopy(params["attachments"])
    metadata = params.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, dict) or "event_type" not in metadata:
            raise Refusal("invalid_metadata_format")
        content["metadata"] = {
            "event_type": metadata["event_type"],
            "event_payload": copy.deepcopy(metadata.get("event_payload", {})),
        }
    return content


def _check_elements(block: Any) -> None:
    """Slack refuses a whole message over one control it cannot show: too many in a block, a static menu
    with no options or more than it lists, or a searched menu that lists its own."""
    elements = block.get("elements") if isinstance(block, dict) and block.get("type") == "actions" else None
    if not isinstance(elements, list):
        return
    if len(elements) > MAX_ELEMENTS:
        raise Refusal("invalid_blocks")
    for element in elements:
        kind = element.get("type") if isinstance(element, dict) else None
        if kind == "static_select" and not 0 < len(element.get("options") or []) <= MAX_OPTIONS:
            raise Refusal("invalid_blocks")
        if kind == "external_select" and "options" in element:
            raise Refusal("invalid_blocks")


def _parse(params: dict[str, Any], content: dict[str, Any], channels: Mapping[str, str]) -> None:
    """Link what Slack links by itself: in mrkdwn text objects unless `verbatim`, and in the text when
    the call asks for names to be linked (`link_names`, or `parse=full`, which escapes markup first)."""
    for found in mrkdwn_objects(content["blocks"]):
        if found.get("verbatim") is not True and isinstance(found.get("text"), str):
            found["text"] = auto_parse(found["text"], channels)
    # Without either, Slack links bare addresses in the text too; left as sent here, as that pings no
    # one and tests read the text the desk wrote.
    if params.get("parse") == "full":
        content["text"] = auto_parse(escape(content["text"]), channels)
    elif flag(params.get("link_names")):
        content["text"] = auto_parse(content["text"], channels)

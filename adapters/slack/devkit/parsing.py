"""What Slack makes of the markup it is sent: the names and addresses it links by itself, and whom a
message then notifies."""

import re
from collections.abc import Iterator, Mapping
from typing import Any

_TOKEN = re.compile(r"<[^<>]*>")
# What Slack recognises in words outside markup: a bare address (up to an escaped bracket, which ends it
# as a typed one would), a special mention typed as @here, and a channel's name typed as #name.
_WORDS = re.compile(
    r"(?P<url>\b(?:https?://|www\.)(?:(?!&lt;|&gt;)[^\s<>|])+)"
    r"|(?<![\w@])@(?P<special>here|channel|everyone)\b"
    r"|(?<![\w#])#(?P<channel>[\w-]+)"
)
# Punctuation that ends a sentence rather than the address typed before it.
_AFTER_URL = ".,:!?)'\""
# The mentions that notify: a person, the channel's members (here, channel, group) or the workspace's
# (everyone), a user group.
_PING = re.compile(r"<(@[UW][A-Z0-9]+|!(?:here|channel|everyone|group)|!subteam\^[A-Z0-9]+)(?:\|[^<>]*)?>")


def auto_parse(text: str, channels: Mapping[str, str]) -> str:
    """Text as Slack keeps it after linking what it recognises in the words (`channels` maps the known
    channels' names to their ids); markup already written is left as it is."""
    parts: list[str] = []
    written = 0
    for token in _TOKEN.finditer(text):
        parts.append(_WORDS.sub(lambda m: _linked(m, channels), text[written : token.start()]))
        parts.append(token.group())
        written = token.end()
    parts.append(_WORDS.sub(lambda m: _linked(m, channels), text[written:]))
    return "".join(parts)


def _linked(match: re.Match[str], channels: Mapping[str, str]) -> str:
    """What Slack writes for one thing it recognised (an unknown channel's name stays words)."""
    if match["special"]:
        return f"<!{match['special']}>"
    if match["channel"]:
        channel = channels.get(match["channel"].lower())
        return f"<#{channel}|{match['channel'].lower()}>" if channel else match.group()
    typed = match["url"].rstrip(_AFTER_URL)
    after = match["url"][len(typed) :]
    address = typed if typed.startswith(("http://", "https://")) else "http://" + typed
    return (f"<{address}>" if address == typed else f"<{address}|{typed}>") + after


def mrkdwn_objects(value: Any) -> Iterator[dict[str, Any]]:
    """Every mrkdwn text object in blocks, wherever it sits (section text and fields, context, confirm)."""
    if isinstance(value, list):
        for item in value:
            yield from mrkdwn_objects(item)
    elif isinstance(value, dict):
        if value.get("type") == "mrkdwn":
            yield value
        else:
            for item in value.values():
                yield from mrkdwn_objects(item)


def pings(message: Mapping[str, Any]) -> set[str]:
    """Whom a stored message notifies: the mentions in its text and its mrkdwn as Slack writes them
    (`<!here>`, `<@U…>`, `<!subteam^S…>`), without their labels."""
    texts = [message.get("text") or "", *(o.get("text") or "" for o in mrkdwn_objects(message.get("blocks")))]
    return {f"<{m[1]}>" for text in texts for m in _PING.finditer(text)}

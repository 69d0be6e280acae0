"""What in a request channel is not a request: a short thanks or ok, emoji alone, a message with no words;
and the names of the skips a platform tells apart before reading any words (bots, edits, joins)."""

from __future__ import annotations

import re
import unicodedata

from chatops.config.conversation import NoiseRules

# The reasons a skipped message is logged with.
THANKS = "thanks"
EMOJI = "emoji only"
EMPTY = "no words"
BOT = "bot message"
EDIT = "edit"
JOIN = "join"

# Slack writes emoji as shortcodes, a skin tone as a second one right after; a keycap emoji is a digit
# (or # or *) wearing a keycap, which must not count as a word.
_PICTURES = re.compile(r":[a-z0-9_+'-]+:(?::skin-tone-[2-6]:)?|[0-9#*]\ufe0f?\u20e3")
_WORD = re.compile(r"\w+")
# What glues emoji into one picture (joiner, presentation selectors, keycap) or tints it (skin tones).
_EMOJI_PARTS = frozenset({"\u200d", "\ufe0e", "\ufe0f", "\u20e3"} | {chr(c) for c in range(0x1F3FB, 0x1F400)})


def not_a_request(text: str, rules: NoiseRules) -> str | None:
    """Why a new message in a request channel opens no ticket, or None if it is a request."""
    if not text.strip():
        return EMPTY
    pictures = _PICTURES.sub(" ", text)
    bare = "".join(" " if _is_emoji(c) else c for c in pictures)
    words = _WORD.findall(bare.casefold())
    if not words:
        # Punctuation alone says as little as a picture; a message of either is a reaction, not a request.
        return EMOJI if bare != text else EMPTY
    if len(words) <= rules.max_words_for_thanks and _made_of(words, rules.phrases):
        return THANKS
    return None


def _is_emoji(char: str) -> bool:
    # Emoji are "other symbols" to Unicode (flags' regional letters among them); tags spell a region's flag.
    return unicodedata.category(char) == "So" or char in _EMOJI_PARTS or 0xE0020 <= ord(char) <= 0xE007F


def _made_of(words: list[str], phrases: list[str]) -> bool:
    """Whether the words are one phrase after another, nothing else (a phrase may be several words)."""
    spelt = {tuple(_WORD.findall(phrase.casefold())) for phrase in phrases} - {()}
    reached = [True] + [False] * len(words)
    for start in range(len(words)):
        if not reached[start]:
            continue
        for phrase in spelt:
            end = start + len(phrase)
            if tuple(words[start:end]) == phrase:
                reached[end] = True
    return reached[-1]

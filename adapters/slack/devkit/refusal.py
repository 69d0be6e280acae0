"""Slack's refusal of a Web API call."""


class Refusal(Exception):
    """A Slack API error answered as {"ok": false, "error": code}."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

"""Jira's refusal of a REST call, in Jira's error shape."""

from collections.abc import Iterable


class Refusal(Exception):
    """Jira's answer in its error shape, instead of the one asked for."""

    def __init__(
        self, status: int, messages: Iterable[str] = (), errors: dict[str, str] | None = None
    ) -> None:
        self.status = status
        self.body = {"errorMessages": list(messages), "errors": errors or {}}
        super().__init__(f"{status}: {self.body}")

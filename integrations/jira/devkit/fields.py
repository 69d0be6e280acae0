"""The issue fields of the Jira stand-in: which may be edited, how Jira checks and changes them, GET field."""

from typing import Any

EDITABLE = ("summary", "description", "labels")


def field_problem(name: str, value: Any) -> str | None:
    """Why Jira would refuse `value` for a field, if it would."""
    if name not in EDITABLE:
        return f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
    if name == "summary":
        if not isinstance(value, str) or not value.strip():
            return "You must specify a summary of the issue."
        if "\n" in value or "\r" in value:
            return "The summary is invalid because it contains newline characters."
        if len(value) > 255:
            return "Summary must be less than 255 characters."
    elif name == "description" and value is not None and not isinstance(value, str):
        return "Operation value must be a string"
    elif name == "labels":
        if not isinstance(value, list) or not all(isinstance(label, str) and label for label in value):
            return "Labels must be a list of non-empty strings."
        for label in value:
            if any(c.isspace() for c in label):
                return f"The label '{label}' contains spaces which is invalid."
            if len(label) > 255:
                return "The label must not exceed 255 characters."
    return None


def apply_operation(name: str, operation: Any, after: dict[str, Any], comments: list[str]) -> str | None:
    """Apply one update operation ({"add": x}) to the would-be field values; why not, if it cannot be."""
    verb, value = next(iter(operation.items()))
    if name == "comment":
        text = value.get("body") if isinstance(value, dict) and verb == "add" else None
        if not isinstance(text, str) or not text.strip():
            return "Comment body can not be empty!"
        comments.append(text)
    elif verb == "set":
        after[name] = value
    elif name == "labels" and verb in ("add", "remove") and isinstance(value, str):
        after[name] = after[name] + [value] if verb == "add" else [v for v in after[name] if v != value]
    else:
        return f"Field '{name}' does not support the operation '{verb}'."
    return None


def changelog_item(
    name: str, before: str | None, after: str | None, from_id: str | None = None, to_id: str | None = None
) -> dict[str, Any]:
    """One changelog item, as Jira writes it into an update event."""
    return {
        "field": name,
        "fieldtype": "jira",
        "fieldId": name,
        "from": from_id,
        "fromString": before,
        "to": to_id,
        "toString": after,
    }


def _described(field_id: str, name: str, kind: str, *clauses: str) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "array", "items": "string"} if kind == "array" else {"type": kind}
    return {
        "id": field_id,
        "key": field_id,
        "name": name,
        "custom": False,
        "orderable": field_id in EDITABLE,
        "navigable": True,
        "searchable": True,
        # The client maps JQL names to field ids by these.
        "clauseNames": list(clauses or (field_id,)),
        "schema": {**schema, "system": field_id},
    }


# GET field: the system fields a desk meets.
FIELDS = [
    _described("issuekey", "Key", "string", "id", "issue", "issuekey", "key"),
    _described("summary", "Summary", "string"),
    _described("description", "Description", "string"),
    _described("labels", "Labels", "array"),
    _described("issuetype", "Issue Type", "issuetype", "issuetype", "type"),
    _described("project", "Project", "project"),
    _described("status", "Status", "status"),
    _described("resolution", "Resolution", "resolution"),
    _described("created", "Created", "datetime", "created", "createdDate"),
    _described("updated", "Updated", "datetime", "updated", "updatedDate"),
    _described("comment", "Comment", "comments-page"),
]

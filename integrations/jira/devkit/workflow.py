"""Jira's simplified workflow as the Jira stand-in runs it: four statuses and one transition into each."""

# Status name: (id, status category key, resolution set on entering it).
STATUSES = {
    "To Do": ("10000", "new", None),
    "In Progress": ("3", "indeterminate", None),
    "Done": ("10001", "done", "Done"),
    "Won't Do": ("10002", "done", "Won't Do"),
}
# Status category key: (id, name).
CATEGORIES = {"new": (2, "To Do"), "indeterminate": (4, "In Progress"), "done": (3, "Done")}
# One transition into each status, available from every other status (Jira's simplified workflow).
TRANSITIONS = {"11": "To Do", "21": "In Progress", "31": "Done", "41": "Won't Do"}

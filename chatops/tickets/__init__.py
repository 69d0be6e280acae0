"""Tickets: their model and workflow, triage, the commands that change them, their views and card."""

"""Integrations with outside services (issue trackers)."""

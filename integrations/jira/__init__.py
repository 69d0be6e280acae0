"""Jira: the issue tracker behind the desk's tracker port, and its webhook."""

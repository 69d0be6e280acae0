"""A local Jira stand-in (REST API, JQL search and webhooks) for tests and the demo."""

"""chatops: a support desk that lives in Slack and Teams."""

"""Development kit for the Slack adapter: a local Slack stand-in and Slack-signed request builders."""

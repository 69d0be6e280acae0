"""Development kit for the Teams adapter: a test CA, a Bot Framework identity provider and a Bot Connector."""

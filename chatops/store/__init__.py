"""Persistence: typed models, the database engine and migrations."""

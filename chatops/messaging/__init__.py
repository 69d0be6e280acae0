"""Messaging: neutral cards and rich text, the outbox, its dispatcher, and the ports chat platforms fill."""

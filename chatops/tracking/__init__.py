"""Tickets and the issue tracker: pushing tickets to it, linking and merging, following it back."""

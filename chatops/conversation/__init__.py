"""The conversation about a ticket: what its requester says after opening it, kept and brought to its card."""

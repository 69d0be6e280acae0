"""Service levels: the due times of a ticket's clocks, and when it must be looked at next."""

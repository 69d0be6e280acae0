"""What is put together from every domain: the ticket card from each domain's part, and the card verbs
each domain fills."""

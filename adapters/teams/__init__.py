"""The Teams adapter: Adaptive Card rendering, mention entities and card actions."""

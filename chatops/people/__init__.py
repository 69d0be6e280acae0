"""People across platforms: who a platform user is to the desk, where to reach them, and their roles."""

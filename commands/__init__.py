"""Chat commands: text parsed into commands and run against the desk."""

"""How the desk is started: the command line, the web server, and serving it from a thread."""

"""What every platform's local stand-ins share: a server in its own thread, recorded calls and faults."""

"""Platform adapters that translate chat platforms into desk commands and render cards."""

"""Configuration: secrets and endpoints from the environment, the desk's rules from a YAML file."""

"""The `urumi` command: runs a service by name, prints schemas, manages stores."""

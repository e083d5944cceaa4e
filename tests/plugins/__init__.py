"""Test-only plugins: the host is tested with these, never with whatever is installed."""

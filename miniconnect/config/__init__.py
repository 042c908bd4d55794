"""miniconnect.config."""

"""miniconnect.runtime."""

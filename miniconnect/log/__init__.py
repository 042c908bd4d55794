"""miniconnect.log."""

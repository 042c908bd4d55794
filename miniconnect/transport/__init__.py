"""miniconnect.transport."""

"""miniconnect.converters."""

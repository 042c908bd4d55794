"""miniconnect.rest."""

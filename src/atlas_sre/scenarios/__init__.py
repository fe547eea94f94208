"""scenarios room."""

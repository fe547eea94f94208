"""protocol room."""

"""cluster room."""

"""analyzers room."""

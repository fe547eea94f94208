"""objects sub-room: what every stage shares about the objects it stores (see README.md)."""

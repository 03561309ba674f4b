"""Storage: the one SQLite connection, its migrations, and the store behind the engine."""

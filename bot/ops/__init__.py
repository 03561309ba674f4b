"""Operations: serving, health and metrics, logs, configuration checks, backup and restore."""

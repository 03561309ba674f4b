"""The application: configuration, storage, background jobs, operations, the ``taros`` command."""

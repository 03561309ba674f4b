"""Evidence files: the store kept by sha256, and the copies officers receive."""

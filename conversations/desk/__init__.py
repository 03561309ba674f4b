"""The officers' desk: their chat commands, what they read, routing, duplicate reports."""

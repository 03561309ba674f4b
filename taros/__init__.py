"""TAROS: the complaint line of Polres Garut on chat."""

__version__ = "0.1.0"

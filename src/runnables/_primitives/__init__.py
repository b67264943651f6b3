"""The runnable primitives, one family per module."""

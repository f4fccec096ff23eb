"""Runnable examples (``python -m examples.<name>``); the tests run them on small settings."""

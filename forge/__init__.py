"""scenario-forge: generate, review and export AI-safety evaluation scenarios."""

__version__ = "0.1.0"

"""orion_cli: a command-line hyperparameter sweep runner."""

__version__ = "0.1.0"

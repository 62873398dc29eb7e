"""Interrupt itself the way Oríon's client does."""

from orion_cli.client import interrupt_trial

interrupt_trial()

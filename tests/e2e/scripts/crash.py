"""Fail loudly."""

import sys

print("about to fail", file=sys.stderr)
print("ValueError: the model diverged", file=sys.stderr)
sys.exit(4)

"""Record argv, cwd and the ORION_* environment in the trial dir, then report x."""

import json
import os
import sys

from orion_cli.client import report_objective

record = {
    "argv": sys.argv[1:],
    "cwd": os.getcwd(),
    "env": {k: v for k, v in os.environ.items() if k.startswith("ORION_")},
}
with open(os.path.join(os.environ["ORION_WORKING_DIR"], "record.json"), "w") as handle:
    json.dump(record, handle)
x = 0.0
for i, arg in enumerate(sys.argv):
    if arg in ("-x", "--x", "--lr"):
        x = float(sys.argv[i + 1])
print("hello from the trial")
print("a line on stderr", file=sys.stderr)
report_objective(x)

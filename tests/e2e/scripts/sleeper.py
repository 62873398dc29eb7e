"""Sleep long (until stopped), leaving a marker; report if woken normally."""

import os
import sys
import time

from orion_cli.client import report_objective

marker = os.path.join(os.environ["ORION_WORKING_DIR"], "started")
with open(marker, "a") as handle:
    handle.write(f"{os.getpid()}\n")
seconds = float(sys.argv[sys.argv.index("--sleep") + 1]) if "--sleep" in sys.argv else 60.0
time.sleep(seconds)
report_objective(float(sys.argv[sys.argv.index("-x") + 1]))

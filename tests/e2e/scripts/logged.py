"""Append this run's trial id and params to $RUN_LOG, sleep a while, report x."""

import json
import os
import random
import sys
import time

from orion_cli.client import report_objective

x = float(sys.argv[sys.argv.index("-x") + 1])
line = (
    json.dumps(
        {
            "trial": os.environ["ORION_TRIAL_ID"],
            "argv": sys.argv[1:],
            "report": os.environ.get("REPORT"),
        }
    )
    + "\n"
)
fd = os.open(os.environ["RUN_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
os.write(fd, line.encode())
os.close(fd)
low, high = float(os.environ.get("SLEEP_LOW", "0")), float(os.environ.get("SLEEP_HIGH", "0"))
time.sleep(random.uniform(low, high))
report_objective(float(os.environ.get("REPORT", x)))

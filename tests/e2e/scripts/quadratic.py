"""A tiny user script: minimize (x - 0.3)^2 (+ y if given)."""

import argparse

from orion_cli.client import report_objective

parser = argparse.ArgumentParser()
parser.add_argument("-x", "--x", type=float, required=True)
parser.add_argument("--y", type=int, default=0)
parser.add_argument("--sleep", type=float, default=0.0)
args = parser.parse_args()
if args.sleep:
    import time

    time.sleep(args.sleep)
report_objective((args.x - 0.3) ** 2 + args.y)

"""The demo's user script: a tiny stand-in for training, standard library only.

It takes its hyperparameters as options, "trains" for --epochs, and reports a loss that is
lowest near lr=0.01, layers=3 and activation=tanh.
"""

import argparse
import math

from orion_cli.client import report_objective

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, required=True)
parser.add_argument("--layers", type=int, required=True)
parser.add_argument("--activation", choices=["relu", "tanh"], default="relu")
parser.add_argument("--epochs", type=int, default=3)
args = parser.parse_args()

loss = 1.0
for epoch in range(args.epochs):
    loss = (math.log10(args.lr) + 2) ** 2 + 0.1 * (args.layers - 3) ** 2
    loss += 0.05 if args.activation == "relu" else 0.0
    loss += 1.0 / (epoch + 2)

report_objective(loss)

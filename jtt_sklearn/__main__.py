"""Command line: ``python -m jtt_sklearn demo`` (also installed as ``jtt-sklearn demo``)."""

import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="jtt-sklearn", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="ERM against JTT on coloured digits, per-group accuracy")
    demo.add_argument("--epochs", type=int, default=30, help="training epochs of each final model")
    demo.add_argument("--seed", type=int, default=0, help="seeds the data and every model")
    args = parser.parse_args(argv)

    from ._demo import run_demo

    run_demo(max_epochs=args.epochs, random_state=args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())

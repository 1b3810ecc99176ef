"""Command line: ``python -m jtt_sklearn demo`` (also installed as ``jtt-sklearn demo``)."""

import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="jtt-sklearn", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="ERM, JTT and Group DRO on coloured digits, per-group accuracy")
    demo.add_argument("--epochs", type=int, default=30, help="training epochs of each final model")
    demo.add_argument("--seed", type=int, default=0, help="seeds the data and every model")
    demo.add_argument("--plot", default="jtt_demo.png", help="PNG bar chart to write ('' to skip)")
    demo.add_argument("--quiet", action="store_true", help="no per-candidate progress lines")
    args = parser.parse_args(argv)

    from ._demo import run_demo

    run_demo(max_epochs=args.epochs, random_state=args.seed, plot_path=args.plot or None, verbose=not args.quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())

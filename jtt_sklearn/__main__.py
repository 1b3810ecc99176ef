"""Command line: ``python -m jtt_sklearn demo`` (also installed as ``jtt-sklearn demo``)."""

import argparse
import sys

# The datasets' table is torch-free, so --help and --version answer without importing torch.
from ._demo_datasets import DATASETS, DemoSetupError

# --help shows plain text, not the docstring's reStructuredText.
DESCRIPTION = (
    "Just Train Twice (JTT) for scikit-learn and skorch. "
    "Run 'jtt-sklearn demo' (or 'python -m jtt_sklearn demo') to compare ERM, JTT and Group DRO "
    "per group on data that ship offline."
)
DEFAULT_PLOT = "jtt_demo.png"


def positive_int(text):
    """argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"must be at least 1 (an untrained model has nothing to show), got {value}"
        )
    return value


def seed(text):
    """argparse type: a seed numpy accepts, 0 to 2**32 - 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be between 0 and 2**32 - 1 (numpy's seeds), got {value}")
    return value


def package_version():
    """The installed distribution's version, else the package's ``__version__``."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("jtt-sklearn")
    except PackageNotFoundError:  # run from a checkout that was never installed
        from . import __version__

        return __version__


def build_parser():
    """The ``jtt-sklearn`` parser and its ``demo`` subparser (for errors found after parsing)."""
    parser = argparse.ArgumentParser(prog="jtt-sklearn", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    # Not required=True: argparse would then say only "arguments are required: command".
    commands = parser.add_subparsers(dest="command", metavar="command")
    demo = commands.add_parser(
        "demo",
        help="ERM, JTT and Group DRO on a bundled dataset, per-group accuracy",
        description="ERM, JTT and Group DRO, tuned by worst-group validation accuracy; "
        "prints per-group test accuracy and writes a bar chart.",
    )
    demo.add_argument(
        "--dataset",
        choices=list(DATASETS),
        default="colored_digits",
        help="data to run on (default colored_digits); "
        + "; ".join(
            f"{name}: {spec.title}" + (f", needs {spec.package}" if spec.package else "")
            for name, spec in DATASETS.items()
        ),
    )
    demo.add_argument(
        "--epochs",
        type=positive_int,
        default=30,
        help="training epochs of each final model (>= 1; default: 30)",
    )
    demo.add_argument(
        "--seed", type=seed, default=0, help="seeds the data and every model (0 to 2**32 - 1; default: 0)"
    )
    demo.add_argument(
        "--plot",
        default=None,
        help=f"bar chart to write, as PNG unless the name ends in another format matplotlib writes "
        f"(.pdf, .svg, ...); default {DEFAULT_PLOT}, skipped with a note without matplotlib; '' to skip",
    )
    demo.add_argument("--quiet", action="store_true", help="no per-candidate progress lines")
    return parser, demo


def run_demo(**kwargs):
    """:func:`jtt_sklearn._demo.run_demo`, imported when the demo runs: it needs torch and skorch."""
    from ._demo import run_demo as run

    return run(**kwargs)


def main(argv=None):
    parser, demo = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.error(
            "choose a command: 'jtt-sklearn demo' compares ERM, JTT and Group DRO per group "
            "on bundled data ('jtt-sklearn demo --help' lists its options)"
        )
    # A plot asked for by name must be written; the default one is skipped without matplotlib.
    plot_path = DEFAULT_PLOT if args.plot is None else args.plot or None
    try:
        run_demo(
            dataset=args.dataset,
            max_epochs=args.epochs,
            random_state=args.seed,
            plot_path=plot_path,
            require_plot=args.plot is not None,
            verbose=not args.quiet,
        )
    except DemoSetupError as exc:  # raised before any training: a usage error
        demo.error(str(exc))
    return 0


if __name__ == "__main__":
    sys.exit(main())

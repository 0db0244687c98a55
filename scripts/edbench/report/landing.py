"""The Snakemake report's landing page, in reStructuredText: the verdict sentences of the gap
between ED and backprop, the headline figures (embedded, so the report stays one file), and the
headline table at each task's long budget."""
from __future__ import annotations

import base64
from pathlib import Path

import pandas as pd

from edbench.report.headline_figure import budgets, reservation
from edbench.report.markdown import percent

LEAD = ("Which learning rule reaches the lowest test error for its training time, when every method is "
        "tuned alike: the same number of trials, chosen on validation, then rerun on every seed?")
FIGURE_CAPTION = ("Test error against training time, both on log axes: lower left is better. Each point is a "
                  "method at its tuned setting, with its 95% interval over seeds; the dashed line is the Pareto "
                  "front, the methods no other beats on both. A hollow point (capped or partial) is not "
                  "comparable and never sets the axes.")


# Snakemake's report sets its workflow description in a narrow column beside the workflow graph,
# centred on the screen's height (a tall one loses its top). On the landing page the answer takes the
# width and starts at the top, the graph below it; the style goes when another view replaces the page.
LAYOUT = """.. raw:: html

   <span id="edbench-answer"></span>
   <style>
   div.h-screen.overflow-auto:has(#edbench-answer) { align-items: flex-start; }
   div.flex.items-start:has(#edbench-answer) { flex-wrap: wrap; }
   div.py-2:has(#edbench-answer) { flex: 1 1 100%; }
   div.prose:has(#edbench-answer) { max-width: 72rem; }
   </style>
"""


def data_uri(path: Path, width: int = 76) -> str:
    """The PNG at ``path`` as a data URI naming its file, as Snakemake embeds its report's figures,
    in indented lines of ``width`` (docutils skips a long line, and takes the whitespace out of a URI)."""
    encoded = base64.b64encode(Path(path).read_bytes()).decode()
    uri = f"data:image/png;charset=utf8;filename={Path(path).name};base64,{encoded}"
    return "\n   ".join(uri[start:start + width] for start in range(0, len(uri), width))


def literal(text: str) -> str:
    """Markdown's `code` as reStructuredText's ``code``."""
    return text.replace("``", "`").replace("`", "``")


def verdicts(gap: pd.DataFrame, order: dict[str, list[str]]) -> list[str]:
    """One bullet per data set, task and budget, the long budgets first."""
    cases = gap.drop_duplicates(["dataset", "task", "budget"])
    rank = {(task, budget): -index for task, names in order.items() for index, budget in enumerate(names)}
    cases = sorted(cases.itertuples(), key=lambda r: (rank.get((r.task, r.budget), 0), r.task, r.dataset))
    return [f"* **{r.task} on {r.dataset}, {r.budget} budget:** {literal(r.verdict)}" for r in cases]


def cell(row) -> str:
    """A winner's test accuracy with its interval and median seconds, and why it is not comparable."""
    interval = "" if pd.isna(row.test_accuracy_ci95_low) else \
        f" ({row.test_accuracy_ci95_low * 100:.1f}–{row.test_accuracy_ci95_high * 100:.1f})"
    note = reservation(row)
    return f"{percent(row.test_accuracy_mean)}{interval} in {row.train_seconds_median:.3g} s" + \
        (f" *({note})*" if note else "")


def headline_table(headline: pd.DataFrame, order: dict[str, list[str]]) -> list[str]:
    """An rst list-table: a row per contestant, a column per task at its long budget."""
    columns = [(dataset, task, order[task][-1]) for dataset, task in
               sorted(headline.groupby(["dataset", "task"]).groups) if task in order]
    lines = [".. list-table:: Each winner's test accuracy (95% interval over seeds) and median training time, "
             "at each task's long budget", "   :header-rows: 1", "", "   * - method"]
    lines += [f"     - {task} on {dataset}, {budget} budget" for dataset, task, budget in columns]
    for contestant in sorted(headline["contestant"].unique()):
        lines.append(f"   * - ``{contestant}``")
        for dataset, task, budget in columns:
            found = headline[(headline["dataset"] == dataset) & (headline["task"] == task)
                             & (headline["contestant"] == contestant) & (headline.get("budget", budget) == budget)]
            lines.append(f"     - {cell(next(found.itertuples())) if len(found) else ''}")
    return lines


def landing(headline: pd.DataFrame, gap: pd.DataFrame, figures: list[Path]) -> str:
    """The page: the question, the verdicts, each headline figure, then the headline table; a config
    without a race says so instead."""
    lines = ["The answer", "==========", "", LAYOUT]
    if headline.empty:
        return "\n".join(lines + ["This config runs no race: see the figures and tables of the report.", ""])
    order = {task: budgets(headline, task) for task in headline["task"].unique()}
    lines += [LEAD, ""]
    if len(gap):
        lines += verdicts(gap, order) + [""]
    for path in figures:
        task = path.stem.removeprefix("headline_")
        lines += [f".. figure:: {data_uri(path)}", "   :width: 100%", "", f"   **{task}.** {FIGURE_CAPTION}", ""]
    lines += headline_table(headline, order) + [""]
    return "\n".join(lines)

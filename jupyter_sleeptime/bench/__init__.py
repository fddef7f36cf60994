"""`jupyter sleeptime bench`: the measurements behind the project's claim.

    jupyter sleeptime bench NOTEBOOKS_DIR --questions questions.jsonl --out DIR \
        [--model M] [--sleep-model M] [--modes sleep,baseline,baseline-budget] [--repeat N] \
        [--notebooks GLOB|a.ipynb,b.ipynb] [--limit-questions N] [--order blocked|interleaved] \
        [--incremental] [--resume] [--micro [--micro-parts digest,cell,cpu]] [--readme README.md]

For every notebook with questions: a fresh `jupyter server` with the extension, a copy of the
notebook run cell by cell over the kernel websocket (stopping at the first error, like Run
All), idle time left to think on its own (never forced), then every question asked in every
mode on that same state, baselines cold. Writes DIR/results.json, DIR/report.md and PNG
figures; `--readme` rewrites the README section between `<!-- bench:start -->` and
`<!-- bench:end -->`. See runner.py for the order policy and docs/DESIGN.md "Measuring fairly".

`command.py` holds the command's arguments, `session.py` runs a session, `runner.py` one
notebook, `summary.py` and `report.py` turn records into numbers and text.
"""

from .command import add_arguments, run
from .report import render_readme_table, update_readme
from .session import resume_from

__all__ = ["add_arguments", "render_readme_table", "resume_from", "run", "update_readme"]

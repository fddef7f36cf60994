"""The ask widget (ipywidgets 8): `%ask` with no question, or `jupyter_sleeptime.ask_widget()`.

A question box with an Ask button, one button per anticipated question (its answer was
prepared while the kernel was idle: the server answers it at once while the notebook is
unchanged), the streamed answer, and the next-step suggestions. A prepared answer names the
prepared question the server matched and offers "Ask the model instead", which asks the
same question again with prepared answers skipped. The state is fetched once, when the widget is built; ↻ fetches it
again. Button callbacks run as comm messages in the kernel, between cells, so they make
the same outgoing HTTP call as the magic and stream into the answer area.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from .backend import Backend, answer, fetch_state, get_backend
from .render import MarkdownAnswer, error_text, markdown_bundle

MODE_OPTIONS = [("sleep-time", "sleep"), ("query-time only", "baseline")]
LABEL_CHARS = 70


def _markdown_output(markdown: str) -> dict[str, Any]:
    return {"output_type": "display_data", "data": markdown_bundle(markdown), "metadata": {}}


class AskWidget(widgets.VBox):
    """Ask about the notebook; see the module docstring."""

    def __init__(self, backend: Any = None, fetch: bool = True, **kwargs: Any) -> None:
        self.backend = backend
        self.answer_text = ""
        self.last_done: dict[str, Any] | None = None
        self._anticipated: list[dict[str, str]] = []
        self._asked = ""  # the last question asked, for "Ask the model instead"

        self.status = widgets.HTML(value="<b>sleeptime</b>")
        self.refresh_button = widgets.Button(
            icon="refresh",
            tooltip="Fetch what sleeptime prepared again",
            layout=widgets.Layout(width="36px"),
        )
        self.question = widgets.Text(
            placeholder="Ask about this notebook…", layout=widgets.Layout(flex="1 1 auto")
        )
        self.ask_button = widgets.Button(
            description="Ask", button_style="primary", icon="paper-plane"
        )
        self.mode = widgets.Dropdown(
            options=MODE_OPTIONS,
            value="sleep",
            layout=widgets.Layout(width="150px"),
            tooltip="sleep-time: answer from what was prepared while idle; query-time only: "
            "send the whole notebook now (for comparison)",
        )
        self.suggested = widgets.HBox(layout=widgets.Layout(flex_flow="row wrap"))
        self.answer = widgets.Output(layout=widgets.Layout(min_height="1.5em"))
        self.fresh_button = widgets.Button(
            description="Ask the model instead",
            icon="redo",
            tooltip="Skip the prepared answer and have the model answer this question now",
            layout=widgets.Layout(width="auto", display="none"),
        )
        self.steps = widgets.VBox()

        self.ask_button.on_click(lambda _: self.ask(self.question.value))
        self.fresh_button.on_click(lambda _: self.ask_model_instead())
        self.refresh_button.on_click(lambda _: self.refresh())

        super().__init__(
            children=[
                widgets.HBox(
                    [self.status, self.refresh_button],
                    layout=widgets.Layout(justify_content="space-between"),
                ),
                widgets.HBox([self.question, self.mode, self.ask_button]),
                self.suggested,
                self.answer,
                self.fresh_button,
                self.steps,
            ],
            **kwargs,
        )
        self.add_class("jp-sleeptime-ask")
        if fetch:
            self.refresh()

    # -- state ----------------------------------------------------------------------------------
    def _backend(self) -> Backend:
        """The backend given to the widget, else the kernel's (looked up again after its
        server went away, as for the magic)."""
        return self.backend if self.backend is not None else get_backend()

    def refresh(self) -> None:
        """Fetch the kernel's prepared insights and rebuild the buttons and suggestions."""
        try:
            backend = self._backend()
            state = fetch_state(backend)
        except Exception as exc:
            self.status.value = f"<b>sleeptime</b> · {html.escape(error_text(str(exc)))}"
            return
        insights = state.get("insights") or {}
        self._anticipated = [
            item
            for item in insights.get("anticipated") or []
            if isinstance(item, dict) and item.get("question")
        ]
        self.suggested.children = tuple(self._question_button(i) for i in self._anticipated)
        self.steps.children = self._step_widgets(insights.get("next_steps") or [])
        self.status.value = "<b>sleeptime</b> · " + html.escape(self._summary(state, backend))

    def _summary(self, state: dict[str, Any], backend: Any) -> str:
        if backend.inprocess:
            return "in-process (no server): answers at query time only"
        parts = []
        memory = state.get("memory") or {}
        if memory.get("version"):
            parts.append(f"memory v{memory['version']}")
        parts.append(f"{len(self._anticipated)} anticipated questions")
        if state.get("thinking"):
            parts.append("thinking…")
        elif state.get("pending"):
            parts.append("will think when idle")
        return " · ".join(parts)

    def _question_button(self, item: dict[str, str]) -> widgets.Button:
        question = str(item["question"])
        label = question if len(question) <= LABEL_CHARS else question[: LABEL_CHARS - 1] + "…"
        button = widgets.Button(
            description=label, tooltip=question, layout=widgets.Layout(width="auto", margin="2px")
        )
        button.on_click(lambda _: self.show_anticipated(item))
        return button

    @staticmethod
    def _step_widgets(steps: list[Any]) -> tuple[widgets.Widget, ...]:
        items = [s for s in steps if isinstance(s, dict) and (s.get("title") or s.get("code"))]
        if not items:
            return ()
        rows: list[widgets.Widget] = [widgets.HTML("<b>Next steps</b>")]
        for step in items:
            title = html.escape(str(step.get("title") or ""))
            code = html.escape(str(step.get("code") or ""))
            rows.append(
                widgets.HTML(
                    f"<div>{title}</div>" + (f"<pre><code>{code}</code></pre>" if code else "")
                )
            )
        return tuple(rows)

    # -- answers --------------------------------------------------------------------------------
    def _set(self, markdown: str) -> None:
        self.answer.outputs = (_markdown_output(markdown),)

    def show_anticipated(self, item: dict[str, str]) -> None:
        """A foreseen question: asked like any other. The server decides whether its
        prepared answer still holds (nothing changed since) and then answers in
        milliseconds, without a model call."""
        self.question.value = str(item["question"])
        self.ask(str(item["question"]))

    def ask_model_instead(self) -> dict | None:
        """Ask the last question again, skipping prepared answers: the model answers."""
        return self.ask(self._asked, mode="sleep", fresh=True)

    def ask(
        self,
        question: str,
        mode: str | None = None,
        model: str | None = None,
        fresh: bool = False,
    ) -> dict | None:
        """Ask and stream the answer into the answer area; returns the `done` event.
        `fresh=True` skips prepared answers."""
        question = (question or "").strip()
        self.fresh_button.layout.display = "none"
        if not question:
            self._set("_Type a question first._")
            return None
        self._asked = question
        view = MarkdownAnswer(self._set)  # no `%ask --fresh` hint: the button offers it
        mode = mode or self.mode.value
        done = answer(question, view, mode=mode, model=model, fresh=fresh, backend=self.backend)
        self.answer_text = view.answer if done is not None else view.text
        self.last_done = done
        if done is not None and done.get("source") == "anticipated":
            self.fresh_button.layout.display = None  # shown
        return done


def show(backend: Any = None) -> None:
    """Display the ask widget in the current output."""
    from IPython.display import display

    display(AskWidget(backend=backend))


__all__ = ["AskWidget", "show"]

"""Shared insights in the engine: two users' engines on one PostgreSQL database, the
scripted model behind LiteLLM. What a skipped cell's values touch is never shared; what is
shared costs the second user no model call; sharing stays off unless asked for."""

from __future__ import annotations

from jupyter_sleeptime.engine.state.document import Policy
from jupyter_sleeptime.testing.scripted_model import control

from .notebooks import run_cell

NB = "course.ipynb"
PLAIN = "rows = [1, 2, 3]\nprint(len(rows))"
TOUCHED = "print(word)"  # prints a value written in a skipped cell


def _explained(calls: list[dict]) -> str:
    return "\n".join(
        str(m["content"]) for c in calls if c.get("task") == "explain_cells" for m in c["messages"]
    )


def _user(make_engine, user: str, url: str, share: bool = True, skip: bool = False):
    engine = make_engine(
        db_url=url, user=user, share_insights=share, share_scope="course", idle_seconds=600
    )
    if skip:
        engine.set_policy(NB, Policy(skip_sources=frozenset({"word = 'xyzzy-plover'"})))
    run_cell(engine, NB, "word = 'xyzzy-plover'", count=1)
    run_cell(engine, NB, PLAIN, "3\n", count=2)
    run_cell(engine, NB, TOUCHED, "xyzzy-plover\n", count=3)
    return engine


async def test_a_skipped_cells_values_keep_a_cell_out_of_sharing(make_engine, postgres_url):
    alice = _user(make_engine, "alice", postgres_url, skip=True)
    assert (await alice.think(NB))["ok"]
    bob = _user(make_engine, "bob", postgres_url)
    before = len(control.calls)
    assert (await bob.think(NB))["ok"]
    sent = _explained(control.calls[before:])
    assert PLAIN not in sent  # reused from Alice
    assert TOUCHED in sent  # Alice's was hidden in part: not offered, so Bob asks himself
    notes = bob.store.cell_notes_shared(ex.cell_hash() for ex in bob.scope.view(NB))
    assert sorted(shared for _, shared in notes.values()) == [False, False, True]
    assert bob.thinker.shared.reused == 1


async def test_sharing_is_off_unless_asked_for(make_engine, postgres_url):
    alice = _user(make_engine, "alice", postgres_url)
    assert (await alice.think(NB))["ok"]
    bob = _user(make_engine, "bob", postgres_url, share=False)
    before = len(control.calls)
    assert (await bob.think(NB))["ok"]
    assert PLAIN in _explained(control.calls[before:]) and bob.thinker.shared is None

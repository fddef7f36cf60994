"""The one pause mechanism (`engine/model/pause.py`): a test per trigger, on the shared `Pause`
object as the embedded model and the engine use it."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from jupyter_sleeptime.engine.model.pause import Cancelled, Pause


def background(pause: Pause, done: threading.Event, **kwargs) -> threading.Thread:
    """A background worker that waits for the pause, then finishes."""

    def run() -> None:
        pause.wait(**kwargs)
        done.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_user_code_in_any_kernel_pauses_background_work():
    pause = Pause()
    pause.set_busy("k1", True)
    pause.set_busy("k2", True)
    done = threading.Event()
    background(pause, done)
    time.sleep(0.15)
    assert not done.is_set() and pause.should_yield() and pause.user_busy
    pause.set_busy("k1", False)
    time.sleep(0.15)
    assert not done.is_set()  # k2 still runs user code
    pause.forget("k2")
    assert done.wait(1)
    assert not pause.should_yield()


def test_a_query_time_call_makes_background_work_give_way_while_it_asks():
    pause = Pause()
    done = threading.Event()
    with pause.asking():
        assert pause.someone_asking and pause.should_yield() and not pause.user_busy
        background(pause, done)
        time.sleep(0.15)
        assert not done.is_set()
    assert done.wait(1)
    waited = threading.Event()
    with pause.asking():  # a wait for user code only ignores askers
        background(pause, waited, asking=False)
        assert waited.wait(1)


def test_cancel_abandons_waiting_background_work():
    pause = Pause()
    pause.set_busy("k1", True)
    epoch = pause.epoch
    pause.cancel_all()
    assert pause.epoch == epoch + 1  # calls started before now see they are abandoned
    with pytest.raises(Cancelled):
        pause.wait(cancelled=lambda: pause.epoch != epoch)


async def test_remote_background_calls_wait_on_the_event_loop():
    pause = Pause()
    pause.set_busy("k1", True)
    waiting = asyncio.ensure_future(pause.wait_async())
    await asyncio.sleep(0.15)
    assert not waiting.done()
    pause.set_busy("k1", False)
    await asyncio.wait_for(waiting, 1)


def test_the_embedded_model_serves_one_call_and_query_time_calls_go_first():
    pause = Pause()
    pause.take_model_for_query()  # a query-time call holds the model
    done = threading.Event()
    background(pause, done, take_model=True)
    time.sleep(0.15)
    assert not done.is_set()  # background waits for the model ...
    assert not pause.try_take_model()
    pause.release_model()
    assert done.wait(1)  # ... and takes it once given back
    asked = threading.Event()

    def ask() -> None:
        pause.take_model_for_query()
        asked.set()

    threading.Thread(target=ask, daemon=True).start()
    time.sleep(0.1)
    assert pause.should_yield()  # the background holder is told to give way
    assert not asked.is_set()
    pause.release_model()
    assert asked.wait(1)
    pause.release_model()
    assert pause.try_take_model()


def test_a_query_time_call_does_not_wait_for_user_code():
    pause = Pause()
    pause.set_busy("k1", True)
    pause.take_model_for_query()  # returns at once although user code runs
    pause.release_model()
    with pytest.raises(Cancelled):  # a background taker waits, and can be abandoned
        pause.wait(cancelled=lambda: True, take_model=True)

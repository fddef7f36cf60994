"""An OpenAI-compatible chat endpoint on loopback that records every request it gets.

Used to check, through LiteLLM's real OpenAI client and a real server, what leaves the
machine. Replies come from the scripted model's rules so thinking runs complete."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from tornado import web
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from jupyter_sleeptime.testing.scripted_model import TASK, reply


class Recorder:
    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay  # seconds before each answer: a slow model
        self.requests: list[dict[str, Any]] = []
        self.answered = 0
        sockets = bind_sockets(0, "127.0.0.1")
        self.port = sockets[0].getsockname()[1]
        self.api_base = f"http://127.0.0.1:{self.port}/v1"
        self.server = HTTPServer(
            web.Application([(r"/v1/chat/completions", _Chat, {"recorder": self})])
        )
        self.server.add_sockets(sockets)

    def texts(self) -> list[str]:
        """Every message text the model was sent."""
        out = []
        for body in self.requests:
            for message in body.get("messages", []):
                content = message.get("content")
                if isinstance(content, list):
                    content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
                out.append(str(content or ""))
        return out

    def tasks(self) -> list[str]:
        """The thinker task of every request, in order ("answer" for questions)."""
        found = []
        for body in self.requests:
            text = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
            match = TASK.search(text)
            found.append(match.group(1) if match else "?")
        return found

    def stop(self) -> None:
        self.server.stop()


class _Chat(web.RequestHandler):
    def initialize(self, recorder: Recorder) -> None:
        self.recorder = recorder

    async def post(self) -> None:
        body = json.loads(self.request.body)
        self.recorder.requests.append(body)
        if self.recorder.delay:
            await asyncio.sleep(self.recorder.delay)
        prompt = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
        text = reply(prompt, body.get("model", ""))
        usage = {
            "prompt_tokens": len(prompt) // 4,
            "completion_tokens": len(text) // 4,
            "total_tokens": (len(prompt) + len(text)) // 4,
        }
        base = {"id": "rec-1", "created": int(time.time()), "model": body.get("model", "")}
        if not body.get("stream"):
            self.finish(
                {
                    **base,
                    "object": "chat.completion",
                    "usage": usage,
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": text},
                        }
                    ],
                }
            )
            self.recorder.answered += 1
            return
        self.set_header("Content-Type", "text/event-stream")
        for piece in [text[i : i + 40] for i in range(0, len(text), 40)]:
            chunk = {
                **base,
                "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
            }
            self.write(f"data: {json.dumps(chunk)}\n\n")
            await self.flush()
        last = {
            **base,
            "object": "chat.completion.chunk",
            "usage": usage,
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        }
        self.write(f"data: {json.dumps(last)}\n\ndata: [DONE]\n\n")
        self.finish()
        self.recorder.answered += 1

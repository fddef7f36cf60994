"""What drives jupyter-sleeptime from outside, for its tests, the demo and the benchmark.

`harness` starts a real server and talks to it as a frontend would; `scripted_model` is a
deterministic LiteLLM provider (`sleeptime-scripted/…`) whose answers are read off the prompt
it is sent; `postgres` starts a throwaway PostgreSQL server. The server, the engine and the
kernel-side code import nothing from here; the provider is found through the
`jupyter_sleeptime.providers` entry points like any other.
"""

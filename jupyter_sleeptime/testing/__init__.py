"""Test doubles for jupyter-sleeptime's own tests and for tools that drive it without a real
model: `scripted_model` is a deterministic LiteLLM provider (`sleeptime-scripted/…`) whose
answers are read off the prompt it is sent. Nothing in the product imports this package; the
provider is found through the `jupyter_sleeptime.providers` entry points like any other."""

"""The model layer: every model call (LiteLLM), the embedded model, its weights, and the
pause that makes background calls give way.
"""

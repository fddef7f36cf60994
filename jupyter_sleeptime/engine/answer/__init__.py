"""Query time: what a question asks, which prepared answer may serve it, and the one place that
builds an answer (`answerer`).
"""

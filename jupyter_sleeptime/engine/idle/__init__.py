"""Idle time: when to think (`scheduler`), what to think (`thinker`), and insights shared
across users.
"""

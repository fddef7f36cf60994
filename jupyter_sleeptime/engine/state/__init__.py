"""What the engine knows: records of what ran, the notebook document, what may be used of it,
how it is shown as text, and the store that keeps it.
"""

"""Code the server sends into kernels: self-contained user expressions, evaluated silently,
that read the namespace without running user code — the digest (`digest.py`) and the probe
of names on a failing line and of docstrings (`probe.py`). Standard library only on both
sides: the kernel needs nothing of this package installed."""

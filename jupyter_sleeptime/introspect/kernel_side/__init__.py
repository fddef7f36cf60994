"""Code that runs inside the user's kernel.

Each module here is shipped to the kernel as its source (or this interpreter's bytecode when
the kernel's matches) by :mod:`jupyter_sleeptime.introspect.shipping`, executed in a
throw-away dict and discarded; nothing is ever imported into the kernel by name, so
``jupyter_sleeptime`` need not be installed there. The modules use only the standard
library and whatever the kernel has already imported, and may run on an older Python than
the server's (hence ``%`` formatting and no ``zip(strict=)``). The server imports them only
in tests, which call ``run()`` in-process.
"""

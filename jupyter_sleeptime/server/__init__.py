"""The jupyter-server host: translates Jupyter events and HTTP into engine calls."""

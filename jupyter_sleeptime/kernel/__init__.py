"""What runs in the user's kernel: `%ask`, the ask widget, and the client that reaches the server."""

"""Secret redaction at the LiteLLM boundary.

Every prompt passes through :class:`Redactor` before any model call (sleep time and query
time alike). Secrets are replaced in place by ``[REDACTED:<kind>]`` so that the code around
them (variable names, dict keys, URLs, headers, table layout) stays readable for the model::

    api_key = "sk-proj-…"              ->  api_key = "[REDACTED:openai_key]"
    postgres://app:hunter2@db/x        ->  postgres://app:[REDACTED:url_password]@db/x
    server.login(EMAIL, "abcd efgh …") ->  server.login(EMAIL, "[REDACTED:password]")

How it works
------------
Formats name only some secrets; what generalises is *where* a value sits. All passes look at
the original text and propose spans; a span that overlaps an already accepted one is
dropped (first come, first served), then all spans are replaced in one pass.

1. **Formats** (pre-compiled regular expressions, each behind a cheap substring check):
   PEM private keys; provider tokens with a distinctive prefix (AWS, GitHub, GitLab, OpenAI,
   Anthropic, Slack, Stripe, Google, Azure, Hugging Face, PyPI, npm, Docker, SendGrid,
   Twilio, …), also with a body shorter or longer than the provider's norm when the body is
   random (``ghp_`` + 24, ``sk-`` + 16); JWTs.
2. **Context rules**: ``Authorization``/``Bearer``, passwords in URLs, auth tuples, ``.netrc``,
   ``curl -u``, ``<password>…</password>``, ``%env``/``os.environ``/``export``,
   ``--password=…``, ``-p '…'`` after tools where -p means a password (mysql, sshpass, …),
   "login: user / pw", tokens in webhook URL paths, ``"…&key=" + "…"``.
3. **Names** (the keyword rule): a literal next to a secret-like name — assigned name, keyword
   argument, dict key, YAML key, query parameter, digest line ``name: type = summary``, a
   secret-named string followed by its value (``os.getenv("PGPASSWORD", "…")``,
   ``conf.set("fs.s3a.secret.key", "…")``), a value on the next line or in brackets
   (``aws_secret_access_key=\n "…"``, ``api_key=("…" "…")``, ``creds = ("svc", "…")``), raw
   strings unless they read as regexes. *Strong* names (password, secret, credentials,
   api_key, client_secret, appid, bare ``pass``/``pw`` …) take any literal in code — words
   included (``SECRET_KEY = "purple-violet-964"``) — except placeholders (``"<your key>"``,
   ``"sk-..."``, ``"my-client-secret"``), stand-ins for local servers (``api_key="ollama"``) and
   references (URLs, paths, env-var names). *Weak* names (key, token, auth, salt, signature,
   session, private …) need a secret-shaped value. Names ending in a non-secret word
   (``token_count``, ``password_strength``, ``key_path``, ``password_changed``) or naming
   public material are not secret names.
4. **Tables**: a secret-named column header, then that column's cells below it — pandas text
   reprs (cells right-aligned on the header's last character; wrapped blocks ending in a
   backslash, hidden ``...`` columns), markdown, grid and polars tables, CSV/TSV/``;`` as
   ``!head`` prints them, and HTML ``<table>``s (``to_html``, Styler), also when an output cap
   cut them.
5. **Code structure**, read by a tolerant lexer that never fails (strings, comments, names,
   brackets; a string cut by an output cap ends at its line): arguments of calls to APIs that
   take credentials, chosen by the callee's words — login/bind/credentials (the user, then
   the password), connect/FTP/SMTP/Redis (a password after the host and user), Client/API/
   Session/OAuth/Auth/Bot (keys), JWT/HMAC/Fernet/AES/TOTP/Serializer/Signer (signing keys);
   a weak keyword there (``login(token="…")``, ``Client(key="…")``) needs no length norm; text
   typed into a password field (``send_keys``/``fill``). The cells of a prompt are read
   locally, from a call's "(" or a literal's line, because a prompt is not a module: cells,
   outputs, tracebacks and markdown are mixed, cells are cut mid-line (``ast.parse`` alone
   costs 17 ms and ``tokenize`` 21 ms per 50,000 characters here).
6. **Generated-looking literals**: a quoted value that mixes upper and lower case and digits,
   20+ characters, dense (entropy ≥ 3.6 bits), not CamelCase words with a version number
   (``CreateOAuth2TokenWithIAM``), not a dotted module path, not an alphabet, anywhere in
   code unless the name, key or callee around it says id, hash, revision or commit; a long
   hex/base64 literal handed first to a class (``OWM("9f3c…")``, ``from_key("0x…")``); a
   typed password (upper/lower/digit or punctuation) right after a user name literal in any
   call (``Github("octo", "…")``).
7. **Query strings**: any parameter holding a random value (``?q=London&appid=<hex>``,
   ``&code=…``) unless it is named like an id, hash, cursor, page or version.
8. **Comments, docstrings, prose**: a secret word, then — right after it, after a link
   (``:``, ``=``, ``->``, ``is``, ``be``), after a few filler words or a parenthesis, or alone on
   the next line — a value shaped for that word ("Dev key (do not commit): …", "the password
   for the test db is …", "Your new API key is …"); a generated-looking token in a ``#``
   comment; hash words (sha256, md5, checksum, digest, commit) before the value veto it.
9. **Dataflow**: a name handed to such a place (``Client(sid, tok)``, ``password=pw``,
   ``f"Bearer {tk}"``, ``f"…&appid={k}"``, ``{"appid": OWM}``) whose literal is bound in the
   prompt (``sid, tok = "…", "…"``, a digest line, a traceback's source line) is redacted
   where it is bound.
10. **Learned values**: a value redacted once is remembered (this process only, never stored)
    and hidden wherever it appears, also cut the way the kernel digest cuts strings (20, 40,
    80 characters) — except one or two plain words, so that a wrong guess does not spread.

11. **Shell and credential files**: IPython's own input transforms
    (``IPython.core.inputtransformer2``) tell ``!`` lines, ``x = !cmd`` and shell cell
    magics (``%%bash``, ``%%script bash``, ``%%writefile``) from Python; in them,
    ``NAME=value cmd``, ``-H "X-Api-Key: …"`` and ``.netrc`` fields. Credential files are
    read by their fields wherever their text appears (heredoc, ``echo … >``, a string, a
    printed file): ``.pgpass`` ``host:port:db:user:password``, ``.netrc`` ``password``, INI
    ``password =`` under a ``[section]`` (``.pypirc``), kubeconfig/YAML ``token:``.
12. **URLs anywhere** (markdown links and images, HTML ``src``, printed URLs): userinfo
    passwords and tokens (``https://<token>@host``), signed and credential query parameters
    by name (``X-Amz-Signature``, ``sig``, ``token``, ``key``, ``access_token``, …).
13. **Assembled at run time**: ``"%s:%s" % (user, token)``, ``"{}:{}".format(…)`` and
    ``f"{user}:{token}"`` where an auth value is made; cookie and header setters
    (``session.cookies.set("sessionid", …)``, ``headers["X-Auth-Token"] = …``); a typed
    password or key in any field of a connection dict (a ``port`` that holds the password).
14. **HTML in markdown by its text nodes**: tags blanked out (offsets kept) so
    ``<summary>API token</summary><code>…</code>`` reads as a label and its value.

Redaction never fails a prompt. A pass that raises on the whole text is run again piece by
piece (a cell's source, its output, a markdown cell, a digest line: :mod:`.pieces`); a piece
it still raises on is replaced by ``WITHHELD`` (its ``In [n]:`` header stays) and the pass
is logged once. The package's modules each read one kind of text: ``formats`` (provider
formats, one data table), ``python_source`` and ``lexer``, ``shell``, ``config_files``,
``tables``, ``prose`` (comments, markdown, HTML), ``urls``, ``assembled``, ``keywords``; the
``redactor`` runs the ``passes`` in order.

Hex digests, UUIDs, commit hashes and base64 blobs with no such context are kept: there is no
name-less entropy scan over prose and outputs, which in notebooks would destroy more useful
text (dataset checksums, ids, plots) than it protects; ``data:image/png;base64,…`` payloads are
left as they are.

Known gaps
----------
* A secret with no context in the prompt: printed alone when the cell that set it is not
  in the prompt, a hex or UUID key passed to a function whose name says nothing
  (``get_weather("London", "9f3c…")``), a random value that reads like CamelCase words
  (about 1-2 % of random 20-character values; the rate falls with length).
* A secret named by something other than the words above, holding words only
  (``sid = "bluebird"``); one- or two-word values are not learned, so such a value printed
  elsewhere without its name stays.
* Dataflow follows a name to one literal bound on its own line; not through returns,
  containers, ``"Bearer " + name`` concatenation or other cells' computations.
* Tables: aligned columns whose names contain spaces, multi-row headers, a header cut away
  by an output cap; prose more than about six words between the secret word and the value.
* Short flags only after the listed tools (``mysql -p…``, ``sshpass -p``); unquoted
  ``password = hunter`` in an .ini text with no ``[section]`` above it reads as a variable;
  API keys shorter than 8 characters; a typed password (not a generated token) under a weak
  label in markdown (``<summary>token</summary><code>Tiger#12x</code>``).

detect-secrets (Yelp) was the reference for several formats and for the entropy measure,
but it is not called at run time: its scan takes ~200 ms per 50,000 characters, it reports
findings rather than redacting, and on the test corpus its default plugins flag about a
quarter of the secret records while flagging checksums and ids we keep. The test suite uses
it as an independent oracle on the corpus.

Speed: measured by the benchmark's micro part ``redact`` on the sources and outputs of real
notebooks (ms per 50,000 characters). Every pattern
starts with a literal or sits behind a substring check, calls are found backwards from each
"(" in the reversed text, and the work on pathological input is bounded.
"""

from .passes import PASSES, Pass
from .redactor import WITHHELD, Redactor
from .values import RedactionResult, is_placeholder, is_wordy, looks_like_secret, shannon_entropy

__all__ = [
    "PASSES",
    "WITHHELD",
    "Pass",
    "RedactionResult",
    "Redactor",
    "is_placeholder",
    "is_wordy",
    "looks_like_secret",
    "shannon_entropy",
]

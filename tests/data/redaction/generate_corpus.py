"""Regenerate the redaction corpus: ``python tests/data/redaction/generate_corpus.py``.

Every secret here is FAKE: random characters from a seeded generator, shaped like the real
formats (prefix, length, alphabet) so that they exercise the redactor; none is a working
credential. Records are embedded in realistic notebook material: code cells, stream outputs,
markdown, DataFrame prints, dict reprs, tracebacks, shell commands, config files.

secrets.jsonl:   {"id", "kind", "where", "text", "secret"} - `secret` must not survive redaction
                 and `[REDACTED:<kind>]` must appear in the output; `where` says where the
                 secret sits (provider format, positional argument, query string, table, …).
negatives.jsonl: {"id", "kind", "text", "keep"} - `keep` must survive unchanged; `kind` says
                 what the look-alike resembles.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import string
import uuid
from pathlib import Path

HERE = Path(__file__).parent
rng = random.Random(20250417)

UPPER_DIGITS = string.ascii_uppercase + string.digits
ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "-_"
B64 = ALNUM + "+/"
HEX = "0123456789abcdef"


def rand(alphabet: str, n: int) -> str:
    while True:
        s = "".join(rng.choice(alphabet) for _ in range(n))
        # keep fakes "random looking": at least one digit and one letter when possible
        digits_and_letters = any(c.isdigit() for c in s) and any(c.isalpha() for c in s)
        both_cases = any(c.isupper() for c in s) and any(c.islower() for c in s)
        if (n < 8 or alphabet == HEX or digits_and_letters) and (
            alphabet != ALNUM or n < 12 or both_cases
        ):
            return s


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# --- fake secret factories -----------------------------------------------------------------------


def aws_id(prefix: str = "AKIA") -> str:
    return prefix + rand(UPPER_DIGITS, 16)


def aws_secret() -> str:
    return rand(B64, 40)


def ghp(prefix: str = "ghp") -> str:
    return f"{prefix}_" + rand(ALNUM, 36)


def github_pat() -> str:
    return "github_pat_" + rand(ALNUM, 22) + "_" + rand(ALNUM, 59)


def openai_key(kind: str = "classic") -> str:
    if kind == "proj":
        return "sk-proj-" + rand(URLSAFE, 74) + "T3BlbkFJ" + rand(URLSAFE, 74)
    if kind == "svc":
        return "sk-svcacct-" + rand(URLSAFE, 60) + "T3BlbkFJ" + rand(URLSAFE, 60)
    return "sk-" + rand(ALNUM, 20) + "T3BlbkFJ" + rand(ALNUM, 20)


def anthropic_key() -> str:
    return "sk-ant-api03-" + rand(URLSAFE, 93) + "AA"


def slack_token(prefix: str = "xoxb") -> str:
    return f"{prefix}-{rng.randint(10**11, 10**12 - 1)}-{rng.randint(10**12, 10**13 - 1)}-" + rand(
        ALNUM, 24
    )


def slack_webhook_path() -> str:
    return "T" + rand(UPPER_DIGITS, 9) + "/B" + rand(UPPER_DIGITS, 10) + "/" + rand(ALNUM, 24)


def stripe(prefix: str) -> str:
    return f"{prefix}_" + rand(ALNUM, 24 if prefix.startswith("pk") else 99)


def google_key() -> str:
    return "AIza" + rand(URLSAFE, 35)


def gocspx() -> str:
    return "GOCSPX-" + rand(URLSAFE, 28)


def azure_key() -> str:
    return rand(B64, 86) + "=="


def hf_token() -> str:
    return "hf_" + rand(ALNUM, 34)


def jwt(claims: dict | None = None) -> str:
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(
        json.dumps(
            claims or {"sub": str(rng.randint(10**6, 10**7)), "name": "Ada", "iat": 1716239022}
        ).encode()
    )
    return f"{header}.{body}.{rand(URLSAFE, 43)}"


def pem_body(lines: int = 6) -> list[str]:
    body = [rand(B64, 64) for _ in range(lines - 1)]
    body.append(rand(B64, 28) + "==")
    return body


def password() -> str:
    words = ["Tiger", "Maple", "Orbit", "Quartz", "Falcon", "Cobalt", "Harbor", "Lumen"]
    return (
        rng.choice(words)
        + rng.choice("!#%&*@$")
        + str(rng.randint(10, 9999))
        + rng.choice(["x", "Q", "z", "Lk", "Rv"])
    )


def hexs(n: int) -> str:
    return rand(HEX, n)


# --- secrets -------------------------------------------------------------------------------------

secrets: list[dict] = []


WHERE = "provider_format"


def section(where: str) -> None:
    """Tag the records that follow with where their secret sits (for per-kind reports)."""
    global WHERE
    WHERE = where


def S(kind: str, text: str, secret: str) -> None:
    assert secret in text, (kind, secret, text)
    rid = f"s{len(secrets) + 1:03d}"
    secrets.append({"id": rid, "kind": kind, "where": WHERE, "text": text, "secret": secret})


# AWS access keys and secret keys -----------------------------------------------------------------
section("provider_format")
k = aws_id()
S("aws_access_key", f'import boto3\ns3 = boto3.client("s3", aws_access_key_id="{k}")', k)
k = aws_id("ASIA")
S("aws_access_key", f"Credentials:\n  AccessKeyId: {k}\n  Expiration: 2024-06-01T12:00:00Z", k)
k = aws_id()
S("aws_access_key", f"| user | access key |\n|---|---|\n| etl-bot | `{k}` |", k)
k = aws_id()
S(
    "aws_access_key",
    f"       user        key_id  active\n0  etl-bot  {k}    True\n1  ci-user  (none)  False",
    k,
)
s = aws_secret()
S(
    "aws_secret_key",
    f'session = boto3.Session(\n    aws_access_key_id=key_id,\n    aws_secret_access_key="{s}",\n)',
    s,
)
s = aws_secret()
S("aws_secret_key", f"[default]\naws_access_key_id = {aws_id()}\naws_secret_access_key = {s}\n", s)
s = aws_secret()
S("aws_secret_key", f"{{'AccessKeyId': '{aws_id('ASIA')}', 'SecretAccessKey': '{s}'}}", s)
s = aws_secret()
S("aws_secret_key", f'AWS_SECRET_ACCESS_KEY="{s}"', s)
s = aws_secret()
S(
    "aws_secret_key",
    f'creds = {{"aws_secret_access_key": "{s}", "region_name": "eu-west-1"}}',
    s,
)

# GitHub ------------------------------------------------------------------------------------------
for prefix, ctx in [
    ("ghp", 'g = Github("{t}")\nrepo = g.get_repo("org/data-pipeline")'),
    ("gho", "Your OAuth token is {t}; it expires in 8 hours."),
    ("ghs", "!git clone https://x-access-token:{t}@github.com/org/private-repo.git"),
    ("ghu", "headers = {{'Authorization': 'token {t}'}}"),
    ("ghp", "GITHUB_TOKEN={t}"),
    ("ghr", "refresh_token: {t}"),
]:
    t = ghp(prefix)
    S("github_token", ctx.format(t=t), t)
t = github_pat()
S("github_token", f'from github import Auth\nauth = Auth.Token("{t}")', t)
t = github_pat()
S("github_token", f"# Fine-grained PAT for the CI bot\n`{t}`", t)

# OpenAI ------------------------------------------------------------------------------------------
t = openai_key()
S("openai_key", f'import openai\nopenai.api_key = "{t}"', t)
t = openai_key("proj")
S("openai_key", f'client = OpenAI(api_key="{t}")', t)
t = openai_key("proj")
S("openai_key", f"%env OPENAI_API_KEY={t}", t)
t = openai_key("svc")
S("openai_key", f'os.environ["OPENAI_API_KEY"] = "{t}"', t)
t = openai_key()
S(
    "openai_key",
    f"AuthenticationError: Error code: 401 - {{'error': {{'message': 'Incorrect API key "
    f"provided: {t}.'}}}}",
    t,
)
t = openai_key("proj")
S("openai_key", f"llm = ChatOpenAI(model='gpt-4o-mini', openai_api_key='{t}', temperature=0)", t)

# Anthropic ---------------------------------------------------------------------------------------
t = anthropic_key()
S("anthropic_key", f'client = anthropic.Anthropic(api_key="{t}")', t)
t = anthropic_key()
S("anthropic_key", f"ANTHROPIC_API_KEY={t}", t)
t = anthropic_key()
S("anthropic_key", f'litellm.completion(model="anthropic/claude-3-5-sonnet", api_key="{t}")', t)

# Slack -------------------------------------------------------------------------------------------
t = slack_token("xoxb")
S("slack_token", f'from slack_sdk import WebClient\nclient = WebClient(token="{t}")', t)
t = slack_token("xoxp")
S("slack_token", f"SLACK_USER_TOKEN = '{t}'", t)
t = slack_token("xoxa")
S("slack_token", f"slack: {{'ok': True, 'token': '{t}', 'team': 'T0001'}}", t)
t = slack_token("xoxs")
S("slack_token", f"token used: {t}", t)
w = slack_webhook_path()
S(
    "slack_webhook",
    f'requests.post("https://hooks.slack.com/services/{w}", json={{"text": "training done"}})',
    w,
)
w = slack_webhook_path()
S("slack_webhook", f"SLACK_WEBHOOK_URL: https://hooks.slack.com/services/{w}", w)

# Stripe ------------------------------------------------------------------------------------------
for prefix, ctx in [
    ("sk_live", 'stripe.api_key = "{t}"'),
    ("rk_live", "restricted = '{t}'  # read-only charges"),
    ("pk_live", '<script>Stripe("{t}")</script>'),
    ("sk_test", "STRIPE_SECRET_KEY={t}"),
]:
    t = stripe(prefix)
    S("stripe_key", ctx.format(t=t), t)

# Google ------------------------------------------------------------------------------------------
t = google_key()
S("google_api_key", f'genai.configure(api_key="{t}")', t)
t = google_key()
S(
    "google_api_key",
    f"https://maps.googleapis.com/maps/api/geocode/json?address=Paris&key={t}",
    t,
)
t = google_key()
S("google_api_key", f"GOOGLE_API_KEY = '{t}'", t)
t = gocspx()
S(
    "google_oauth_secret",
    f'{{"installed": {{"client_id": "1234-abc.apps.googleusercontent.com", '
    f'"client_secret": "{t}", "redirect_uris": ["http://localhost"]}}}}',
    t,
)
t = gocspx()
S("google_oauth_secret", f"flow = Flow.from_client_config(cfg, client_secret='{t}')", t)
t = rand(URLSAFE, 24)
S("secret", f'CLIENT_SECRET = "{t}"  # legacy OAuth client secret', t)
t = "ya29." + rand(URLSAFE, 120)
S("google_oauth_token", f"creds.token\nOut[7]: '{t}'", t)

# Azure -------------------------------------------------------------------------------------------
k = azure_key()
S(
    "azure_storage_key",
    f'conn_str = "DefaultEndpointsProtocol=https;AccountName=mldata;AccountKey={k};'
    f'EndpointSuffix=core.windows.net"',
    k,
)
k = azure_key()
S(
    "azure_storage_key",
    f"BlobServiceClient.from_connection_string('AccountName=lake;AccountKey={k}')",
    k,
)
k = rand(B64, 43) + "="
S(
    "azure_storage_key",
    f"Endpoint=sb://bus.servicebus.windows.net/;SharedAccessKeyName=root;SharedAccessKey={k}",
    k,
)
k = rand(ALNUM, 24) + "%2B" + rand(ALNUM, 16) + "%3D"
S(
    "azure_sas",
    f"https://mldata.blob.core.windows.net/raw/train.csv?sv=2022-11-02&ss=b&sp=r&sig={k}",
    k,
)

# Hugging Face ------------------------------------------------------------------------------------
t = hf_token()
S("huggingface_token", f'from huggingface_hub import login\nlogin(token="{t}")', t)
t = hf_token()
S("huggingface_token", f"!huggingface-cli login --token {t}", t)
t = hf_token()
S(
    "huggingface_token",
    f'model = AutoModel.from_pretrained("meta-llama/Llama-3-8B", token="{t}")',
    t,
)
t = hf_token()
S("huggingface_token", f"%env HF_TOKEN={t}", t)

# Other providers ---------------------------------------------------------------------------------
t = "glpat-" + rand(URLSAFE, 20)
S("gitlab_token", f"gl = gitlab.Gitlab('https://gitlab.com', private_token='{t}')", t)
t = "pypi-AgEIcHlwaS5vcmc" + rand(URLSAFE, 70)
S("pypi_token", f"!twine upload dist/* -u __token__ -p {t}", t)
t = "npm_" + rand(ALNUM, 36)
S("npm_token", f"//registry.npmjs.org/:_authToken={t}", t)
t = "SG." + rand(URLSAFE, 22) + "." + rand(URLSAFE, 43)
S("sendgrid_key", f"sg = SendGridAPIClient('{t}')", t)
t = "dapi" + hexs(32)
S(
    "databricks_token",
    f'w = WorkspaceClient(host="https://adb-1.azuredatabricks.net", token="{t}")',
    t,
)
t = "r8_" + rand(ALNUM, 37)
S("replicate_token", f"REPLICATE_API_TOKEN: {t}", t)
t = "gsk_" + rand(ALNUM, 52)
S("groq_key", f"client = Groq(api_key='{t}')", t)
t = "lsv2_pt_" + hexs(32) + "_" + hexs(10)
S("langsmith_key", f"%env LANGCHAIN_API_KEY={t}", t)
t = f"{rng.randint(10**8, 10**9 - 1)}:AA" + rand(URLSAFE, 33)
S("telegram_bot_token", f"bot = telegram.Bot('{t}')", t)
t = hexs(40)
S("wandb_key", f"!wandb login {t}", t)
t = "xai-" + rand(ALNUM, 80)
S("xai_key", f'XAI_API_KEY = "{t}"', t)
t = rand(URLSAFE, 68)
S(
    "discord_webhook",
    f"https://discord.com/api/webhooks/{rng.randint(10**17, 10**18)}/{t}",
    t,
)

# JWT ---------------------------------------------------------------------------------------------
section("provider_format")
t = jwt()
S("jwt", f"resp.json()\nOut[12]: {{'access_token': '{t}', 'token_type': 'bearer'}}", t)
t = jwt({"iss": "supabase", "role": "service_role", "exp": 1983812996})
S("jwt", f'supabase = create_client(url, "{t}")', t)
t = jwt()
S("jwt", f"curl -H 'Authorization: Bearer {t}' https://api.example.com/v1/items", t)
t = jwt({"user_id": 42, "scope": "read:data"})
S("jwt", f"id_token = {t}", t)
t = jwt()
S("jwt", f"   user_id                               session\n0       42  {t}", t)

# PEM private keys --------------------------------------------------------------------------------
section("provider_format")
body = pem_body()
S(
    "private_key",
    "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(body) + "\n-----END RSA PRIVATE KEY-----",
    body[2],
)
body = pem_body(4)
S(
    "private_key",
    "key_pem = '''-----BEGIN PRIVATE KEY-----\n"
    + "\n".join(body)
    + "\n-----END PRIVATE KEY-----\n'''\nsigner = load_pem_private_key(key_pem.encode(), None)",
    body[1],
)
body = pem_body(5)
S(
    "private_key",
    '{"type": "service_account", "project_id": "ml-prod", "private_key_id": "'
    + hexs(40)
    + '", "private_key": "-----BEGIN PRIVATE KEY-----\\n'
    + "\\n".join(body)
    + '\\n-----END PRIVATE KEY-----\\n", "client_email": "sa@ml-prod.iam.gserviceaccount.com"}',
    body[3],
)
body = pem_body(3)
S(
    "private_key",
    "!cat ~/.ssh/id_ed25519\n-----BEGIN OPENSSH PRIVATE KEY-----\n"
    + "\n".join(body)
    + "\n-----END OPENSSH PRIVATE KEY-----",
    body[0],
)
body = pem_body(4)
S(
    "private_key",
    "-----BEGIN EC PRIVATE KEY-----\n" + "\n".join(body) + "\n... (output truncated)",
    body[1],
)
body = pem_body(4)
S(
    "private_key",
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\r\n"
    + "\r\n".join(body)
    + "\r\n-----END ENCRYPTED PRIVATE KEY-----",
    body[2],
)

# passwords in URLs -------------------------------------------------------------------------------
section("url_userinfo")
for tmpl in [
    'engine = create_engine("postgresql+psycopg2://analyst:{p}@db.internal:5432/warehouse")',
    "DATABASE_URL=postgres://app:{p}@10.0.3.7/app",
    "client = MongoClient('mongodb+srv://ml_user:{p}@cluster0.ab1cd.mongodb.net/?retryWrites=true')",
    "r = redis.from_url('redis://:{p}@cache:6379/0')",
    "OperationalError: (psycopg2.OperationalError) connection to "
    '"mysql://root:{p}@localhost:3306/shop" failed',
    "Using proxy http://corp%5Cjdoe:{p}@proxy.corp.local:8080",
    "celery = Celery(broker='amqp://worker:{p}@rabbit:5672//')",
]:
    p = password().replace("@", "-")  # an unencoded "@" is not valid inside a URL
    S("url_password", tmpl.format(p=p), p)

# connection strings ------------------------------------------------------------------------------
section("conn_string")
p = password()
S(
    "password",
    f'conn = pyodbc.connect("Driver={{ODBC Driver 18 for SQL Server}};Server=sql01;'
    f'Database=sales;Uid=reporter;Pwd={p};Encrypt=yes")',
    p,
)
p = password()
S(
    "password",
    "Server=tcp:srv.database.windows.net,1433;User ID=admin;"
    f"Password={p};Trusted_Connection=False;",
    p,
)
p = password()
S("password", f'conn = psycopg2.connect("host=db dbname=x user=etl password={p}")', p)
p = password()
S("password", f"jdbc:sqlserver://db:1433;databaseName=dw;user=sa;password={p};", p)

# passwords in dicts / kwargs / assignments -------------------------------------------------------
section("named")
p = password()
S("password", f'db_config = {{"host": "localhost", "user": "root", "password": "{p}"}}', p)
p = password()
S("password", f"{{'username': 'alice', 'password': '{p}', 'remember': True}}", p)
p = password()
S("password", f'db_password = "{p}"', p)
p = password()
S("password", f"conn = mysql.connector.connect(host='db', user='root', passwd='{p}')", p)
p = "correct horse battery staple"
S("password", f'MASTER_PASSPHRASE = "{p}"', p)
p = password()
S("password", f"smtp.login('reports@example.org', '{p}')", p)
p = password()
S("password", f'r = requests.get(url, auth=("svc-reader", "{p}"))', p)
p = password()
S("password", f"auth = HTTPBasicAuth('admin', '{p}')", p)
p = password()
S("password", f"database:\n  host: db.internal\n  user: etl\n  password: {p}\n", p)
p = password()
S("password", f"DB_PASSWORD={p}", p)
p = "hunter" + str(rng.randint(10, 99))
S("password", f"!mysql -u root --password={p} -e 'SHOW DATABASES'", p)
p = password()
S("password", f"if user_password == '{p}':\n    grant_access()", p)
p = password()
S("password", f'self.password = "{p}"', p)
p = password()
S(
    "password",
    'Traceback (most recent call last):\n  File "etl.py", line 14, in <module>\n'
    f'    conn = connect(user="etl", password="{p}", host="db")\n'
    'OperationalError: FATAL:  password authentication failed for user "etl"',
    p,
)
p = password()
S("password", f'Settings(host="db", port=5432, password="{p}", pool_size=5)', p)
p = password()
S("password", f'"pwd": "{p}",', p)
p = password()
S("password", f"kc = KeycloakOpenID(server_url=u, realm_name='ml', username='bot', pwd='{p}')", p)
p = password()
S("password", f'val PASSWORD: String = "{p}"', p)
p = password()
S("password", f'password <- "{p}"\ncon <- dbConnect(RPostgres::Postgres(), password = password)', p)
p = password()
S("password", f'{{\\"user\\": \\"etl\\", \\"password\\": \\"{p}\\"}}', p)

# generic secrets ---------------------------------------------------------------------------------
section("named")
t = rand(ALNUM + "!@#%^&(-_=+", 50)
S("secret", f"SECRET_KEY = 'django-insecure-{t}'", f"django-insecure-{t}")
t = rand(URLSAFE, 32)
S("secret", f'app.config["SECRET_KEY"] = "{t}"', t)
t = hexs(64)
S("secret", f"webhook_secret = '{t}'", t)
t = rand(ALNUM, 40)
S("secret", f"credentials = '{t}'", t)
t = rand(B64, 44)
S("secret", f'JWT_SIGNING_KEY = "{t}"', t)
t = hexs(32)
S("secret", f"FERNET_ENCRYPTION_KEY: {t}", t)
t = rand(ALNUM, 30)
S("secret", f"settings.client_secret = '{t}'", t)

# API keys without a known prefix -----------------------------------------------------------------
section("named")
t = hexs(32)
S("api_key", f'newsapi = NewsApiClient(api_key="{t}")', t)
t = rand(ALNUM, 40)
S("api_key", f"co = cohere.Client(api_key='{t}')", t)
t = rand(ALNUM, 32)
S("api_key", f"MISTRAL_API_KEY = '{t}'", t)
t = str(uuid.UUID(int=rng.getrandbits(128)))
S("api_key", f'pc = Pinecone(api_key="{t}")', t)
t = rand(ALNUM, 32)
S("api_key", f"headers = {{'X-API-Key': '{t}', 'Accept': 'application/json'}}", t)
t = hexs(32)
S("secret", f"Ocp-Apim-Subscription-Key: {t}", t)
t = rand(ALNUM, 32)
S("api_key", f"params = dict(q='weather', appid='x', apikey='{t}')", t)
t = rand(ALNUM, 24)
S("api_key", f'{{"apiKey": "{t}", "authDomain": "demo.firebaseapp.com"}}', t)

# tokens and keys behind weak names (need a secret-shaped value) ----------------------------------
section("named")
t = hexs(48)
S(
    "token",
    f"To access the server, open this file in a browser:\n    http://127.0.0.1:8888/lab?token={t}",
    t,
)
t = rand(ALNUM, 32)
S("token", f"token = '{t}'", t)
t = hexs(40)
S("wandb_key", f"import wandb\nwandb.login(key='{t}')\nwandb.init(project='churn')", t)
t = rand(URLSAFE, 43)
S("token", f"bot_token: {t}", t)
t = rand(ALNUM, 32)
S("token", f'access_token = "{t}"', t)
t = rand(ALNUM, 36)
S("token", f"refresh_token={t}", t)
t = rand(B64, 32)
S("secret", f"HMAC_SALT = '{t}'", t)
t = rand(ALNUM, 64)
S("secret", f"Cookie: sessionid=abc; session={t}", t)
t = hexs(32)
S("token", f"!curl -s 'https://api.example.com/v2/data?access_token={t}&limit=10'", t)
t = rand(ALNUM, 28)
S("token", f"tok = client.login()\nprint(tok)\n{{'auth_token': '{t}'}}", t)

# Authorization headers ---------------------------------------------------------------------------
section("header")
t = rand(URLSAFE, 40)
S("bearer_token", f'headers = {{"Authorization": "Bearer {t}"}}', t)
t = rand(URLSAFE, 32)
S("bearer_token", f"> GET /v1/models HTTP/1.1\n> Authorization: Bearer {t}\n> Accept: */*", t)
t = base64.b64encode(f"admin:{password()}".encode()).decode()
S("basic_auth", f"Authorization: Basic {t}", t)
t = rand(ALNUM, 40)
S("auth_header", f"session.headers.update({{'authorization': 'Token {t}'}})", t)
t = rand(URLSAFE, 36)
S("bearer_token", f"The request was sent with bearer {t} and returned 403.", t)

# environment variables ---------------------------------------------------------------------------
section("env")
for ctx, kind in [
    ("%env COHERE_API_KEY={v}", "api_key"),
    ("%env DB_PASSWORD {v}", "password"),
    ("%set_env PINECONE_KEY={v}", "secret"),
    ('os.environ["X_KEY"] = "{v}"', "secret"),
    ("os.environ['REPLICATE_TOKEN'] = '{v}'", "token"),
    ('os.environ.setdefault("MY_SERVICE_SECRET", "{v}")', "secret"),
    ("!export ACME_AUTH={v} && python train.py", "secret"),
    ('dotenv.set_key(".env", "ACME_API_KEY", "{v}")', "api_key"),
]:
    v = rand(ALNUM, 20)
    S(kind, ctx.format(v=v), v)
v = "value" + str(rng.randint(100, 999))
S("secret", f'os.environ["X_KEY"] = "{v}"', v)

# markdown / prose --------------------------------------------------------------------------------
section("prose")
p = password()
S("password", f"## Setup\nLog in to the staging dashboard with **admin / password: {p}**.", p)
t = rand(ALNUM, 32)
S("secret", f"> **Note:** my API key: {t} (rotate after the demo)", t)

# DataFrame / dict reprs --------------------------------------------------------------------------
section("table")
t = openai_key("proj")
S(
    "openai_key",
    "       name          provider  api_key\n"
    f"0  chat-bot  openai      {t}\n1  embedder  local  None",
    t,
)
t = rand(ALNUM, 32)
S(
    "api_key",
    f"{{'name': 'geo', 'api_key': '{t}', 'timeout': 30, 'retries': 3}}",
    t,
)
p = password()
S("password", f"Config(user='etl', password='{p}', host='db', port=5432)", p)


# shell, config files and other places secrets end up -------------------------------------------
section("shell_config")
p = password().replace(";", "")
S("url_password", f'df = pd.read_sql(q, "mssql+pyodbc://sa:{p}@sqlserver01/dw")', p)
p = password()
S("password", f"!cat ~/.netrc\nmachine api.example.com login ada password {p}", p)
p = password()
S("password", f"!PGPASSWORD={p} psql -h db -U etl -c 'select 1'", p)
t = "dckr_pat_" + rand(URLSAFE, 27)
S("docker_token", f"!docker login -u ada -p {t} registry.example.com", t)
p = password()
S("password", f"!curl -s -u admin:{p} https://jenkins.example.com/api/json", p)
p = password()
S("password", f"<datasource>\n  <user>etl</user>\n  <password>{p}</password>\n</datasource>", p)
t = rand(ALNUM, 32)
S("api_key", f"<Settings><ApiKey>{t}</ApiKey><Region>eu</Region></Settings>", t)
p = password()
S(
    "password",
    f"cfg = pd.Series(config)\ncfg\nhost        db.internal\npassword    {p}\ndtype: object",
    p,
)
t = hexs(32)
S("secret", f'!cat ~/.kaggle/kaggle.json\n{{"username":"ada","key":"{t}"}}', t)
p = password()
S(
    "password",
    f"environ({{'PATH': '/usr/bin:/bin', 'HOME': '/home/ada', 'DB_PASSWORD': '{p}'}})",
    p,
)
t = rand(ALNUM, 32)
S("token", f"client = Client(account_sid, auth_token)\nauth_token = '{t}'", t)


# --- negatives -----------------------------------------------------------------------------------

negatives: list[dict] = []


NEG_KIND = "general"  # what the look-alike resembles, for per-kind reports


def N(text: str, keep: str) -> None:
    assert keep in text, (keep, text)
    rid = f"n{len(negatives) + 1:03d}"
    negatives.append({"id": rid, "kind": NEG_KIND, "text": text, "keep": keep})


sha = hashlib.sha256(b"train.csv").hexdigest()
md5 = hashlib.md5(b"train.csv").hexdigest()
commit = hashlib.sha1(b"commit").hexdigest()
u = str(uuid.UUID(int=rng.getrandbits(128)))

N("token_count = 512\nprint(token_count)", "token_count = 512")
N("resp = client.chat.completions.create(model='gpt-4o-mini', max_tokens=256)", "max_tokens=256")
N(f"print(hashlib.sha256(data).hexdigest())\n{sha}", sha)
N(f"sha256: {sha}  train.csv", sha)
N(f"md5 checksum of the download: {md5}", md5)
N(f"expected_md5 = '{md5}'", md5)
N(f'dataset_sha256 = "{sha}"', sha)
N('api_key = os.environ["OPENAI_API_KEY"]', 'os.environ["OPENAI_API_KEY"]')
N('key = os.getenv("OPENAI_API_KEY")', 'os.getenv("OPENAI_API_KEY")')
N('client = OpenAI(api_key="<your-api-key>")', "<your-api-key>")
N('openai.api_key = "YOUR_API_KEY"', "YOUR_API_KEY")
N("password = 'xxx'", "'xxx'")
N('api_key = "sk-..."', "sk-...")
N("password = getpass()", "password = getpass()")
N('password = getpass.getpass("Password: ")', 'getpass.getpass("Password: ")')
N('password = os.environ["DB_PASSWORD"]', 'os.environ["DB_PASSWORD"]')
N('key = "sepal_length"\ndf[key].mean()', 'key = "sepal_length"')
N("df.sort_values(key=lambda s: s.str.lower())", "key=lambda s: s.str.lower()")
N(f"run_id = '{u}'", u)
N(f"       id                                    user\n0  {u}  alice", u)
N(f"commit {commit}\nAuthor: Ada <ada@example.com>", commit)
N(f"HEAD is now at {commit[:7]} fix tokenizer padding", commit[:7])
N(
    "![plot](data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==)",
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
)
N("The tokenizer splits text into tokens; each token maps to an id.", "each token maps to an id")
N("Set your password in the account settings, then create an API key.", "create an API key")
N("/home/ada/projects/churn/data/raw/2024-05-01.parquet", "/home/ada/projects/churn/data/raw/")
N("df = pd.read_csv('https://example.com/data/iris.csv')", "https://example.com/data/iris.csv")
N("http://localhost:8888/lab/tree/analysis.ipynb", "http://localhost:8888/lab/tree/analysis.ipynb")
N("tokenizer.pad_token = tokenizer.eos_token", "tokenizer.pad_token = tokenizer.eos_token")
N('tokenizer = AutoTokenizer.from_pretrained("bert-base-uncased")\neos_token = "</s>"', "</s>")
N("pad_token_id = 0\nbos_token_id = 1", "bos_token_id = 1")
N('sort_key = "created_at"', "created_at")
N('primary_key = "customer_id"', "customer_id")
N("secret_name = 'prod/db/credentials'", "prod/db/credentials")
N("key_path = '~/.ssh/id_ed25519.pub'", "~/.ssh/id_ed25519.pub")
N("password_prompt = 'Enter your password: '", "Enter your password: ")
N("for key, value in config.items():\n    print(key, value)", "print(key, value)")
N("{'learning_rate': 0.001, 'batch_size': 32, 'key': 'label'}", "'key': 'label'")
N("    sepal_length  sepal_width  species\n0           5.1          3.5   setosa", "5.1")
N("api_key_env = 'OPENAI_API_KEY'", "'OPENAI_API_KEY'")
N('password = os.getenv("PG_PASSWORD", "")', 'os.getenv("PG_PASSWORD", "")')
N("password = config['db']['password']", "config['db']['password']")
N("auth = HTTPBasicAuth(user, pwd)", "HTTPBasicAuth(user, pwd)")
N("login(token=os.environ['HF_TOKEN'])", "os.environ['HF_TOKEN']")
N("engine = create_engine('postgresql://user:password@localhost/db')", "user:password@localhost")
N("url = f'postgresql://{user}:{pw}@{host}/db'", "{user}:{pw}@{host}")
N('conn = psycopg2.connect(dsn="host=db user=etl password=${PG_PASSWORD}")', "${PG_PASSWORD}")
N('headers = {"Authorization": f"Bearer {token}"}', 'f"Bearer {token}"')
N("Bearer tokens are sent in the Authorization header.", "Bearer tokens are sent")
N("n_tokens = 1_000_000\ncost = n_tokens / 1000 * 0.002", "n_tokens = 1_000_000")
N("tokens_per_second: 42.7", "42.7")
N('model = "gpt-4o-mini-2024-07-18"', "gpt-4o-mini-2024-07-18")
N("from sklearn.model_selection import train_test_split", "train_test_split")
N("risk-adjusted-returns-by-sector-2024 was saved", "risk-adjusted-returns-by-sector-2024")
N("pip install scikit-learn==1.5.0 sk-video", "scikit-learn==1.5.0")
N("%env CUDA_VISIBLE_DEVICES=0", "CUDA_VISIBLE_DEVICES=0")
N("%env TOKENIZERS_PARALLELISM=false", "TOKENIZERS_PARALLELISM=false")
N("os.environ['WANDB_PROJECT'] = 'churn-model'", "churn-model")
N("Out[3]: 3.141592653589793", "3.141592653589793")
N("cache_key = f'{user_id}:{date}'", "f'{user_id}:{date}'")
N(f'etag: "{md5}"', md5)
N('secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db"', "123456789012")
N(
    "def check_password(password: str) -> bool:\n    return len(password) >= 12",
    "len(password) >= 12",
)
N("password_min_length = 12", "password_min_length = 12")
N("print('token:', tok.text, tok.pos_)", "tok.text, tok.pos_")
N("keys = ['a', 'b']\nd = dict.fromkeys(keys)", "keys = ['a', 'b']")
N("xgb.train(params, dtrain, num_boost_round=100)", "num_boost_round=100")
N("git clone git@github.com:org/repo.git", "git@github.com:org/repo.git")
N("ssh://git@gitlab.example.com:2222/team/repo.git", "git@gitlab.example.com:2222")
N("SECRET_KEY = os.environ.get('DJANGO_SECRET_KEY')", "os.environ.get('DJANGO_SECRET_KEY')")
N("AWS_SECRET_ACCESS_KEY = <your secret key>", "<your secret key>")
N("print(f'hash={hashlib.md5(b).hexdigest()}')", "hashlib.md5(b).hexdigest()")
N("monkey_patch = True\nturkey_weight_kg = 7.5", "turkey_weight_kg = 7.5")
N("author: Ada Lovelace\nauthors: ['Ada', 'Charles']", "author: Ada Lovelace")
N(f"object key: s3://bucket/raw/{sha[:16]}.parquet", f"s3://bucket/raw/{sha[:16]}.parquet")
N("Password: ········\nConnected.", "Password: ········")
N("settings\npassword    required\ntimeout     30", "password    required")
N("<key>value</key>", "<key>value</key>")
N(
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGz8vE3p0Yb6cQ2k9uZr1xW4tN7mS5jL0hF3dR8aP2oK ada@laptop",
    "AAAAC3NzaC1lZDI1NTE5AAAAIGz8vE3p0Yb6cQ2k9uZr1xW4tN7mS5jL0hF3dR8aP2oK",
)
N('client = OpenAI(base_url="http://localhost:8000/v1", api_key="llama.cpp")', '"llama.cpp"')
N('client = OpenAI(base_url="http://localhost:11434/v1", api_key="ollama")', '"ollama"')
N("model_list:\n  - litellm_params:\n      api_key: os.environ/OPENAI_API_KEY", "os.environ/")
N('headers = {"Authorization": auth_header, "Accept": "application/json"}', "auth_header")
N("b, a = signal.butter(4, 0.1, btype='low')\nlow_pass = 19.0", "low_pass = 19.0")
N("key = secrets.token_hex(16)", "secrets.token_hex(16)")
N("def __getitem__(self, key: PositionalIndexer2D):", "PositionalIndexer2D")
N('record = {"user": "ada", "password": password_hash}', "password_hash")
N("r = requests.get(url, auth=(user, pwd))", "auth=(user, pwd)")
N("lp2lp_signature = lp2bs_signature", "lp2bs_signature")
N("Use the --password option to pass a password on the command line.", "--password option")
N('<assemblyIdentity name="Microsoft.VC90.CRT" publicKeyToken="1fc8b3b9a1e18e3b"/>', "1fc8b3b9")
N("amqp://guest:guest@localhost:5672//", "guest:guest@localhost")
N("print(api_key[:4] + '...')", "api_key[:4]")
N('st.secrets["db_password"]', 'st.secrets["db_password"]')
N("token = tokenizer.decode(ids[0], skip_special_tokens=True)", "tokenizer.decode(ids[0]")


# =================================================================================================
# Round 2: how people really write secrets. Written from notebooks, SDK quick-starts and support
# threads BEFORE the context rules that catch them, so the cases are not copies of the rules.
# The value is the same kind of fake as above; what varies is WHERE it sits: positional and
# keyword arguments of SDK calls (also across lines), query strings, comments and docstrings,
# printed tables, settings dicts with ordinary-looking values, lengths off the provider's norm,
# variables that flow into a credential call, kernel digest lines and tracebacks.
# =================================================================================================

LOWER = string.ascii_lowercase
BASE32 = string.ascii_uppercase + "234567"
WORDS = [
    "bluebird", "purple", "monkey", "river", "staging", "summer", "harbor", "violet", "copper",
    "meadow", "pixel", "rocket", "walnut", "saffron", "glacier", "thunder", "orchid", "velvet",
]  # fmt: skip
FIRST = ["ada", "grace", "alan", "linus", "barbara", "edsger", "katherine", "dennis", "frances"]


def app_password() -> str:
    """Google-style app password: four groups of four lowercase letters."""
    return " ".join(rand(LOWER, 4) for _ in range(4))


def phrase_secret() -> str:
    """An ordinary-looking value someone typed as a secret: words, a dash, a number."""
    a, b = rng.sample(WORDS, 2)
    return f"{a}-{b}-{rng.randint(10, 2099)}"


def fernet_key() -> str:
    return base64.urlsafe_b64encode(bytes(rng.getrandbits(8) for _ in range(32))).decode()


def email() -> str:
    return f"{rng.choice(FIRST)}.{rng.choice(['ops', 'data', 'ml', 'bi'])}@example.com"


def frame_text(data: dict) -> str:
    """The text repr pandas prints for a DataFrame (pandas is a test dependency)."""
    import pandas as pd

    return pd.DataFrame(data).to_string()


def users_frame(pwd_col: str, values: list[str], extra: dict | None = None) -> str:
    """A printed pandas DataFrame (the text repr a cell shows) with a credential column."""
    import pandas as pd

    n = len(values)
    data = {"user": rng.sample(FIRST, n), "email": [email() for _ in range(n)]}
    data[pwd_col] = values
    data.update(extra or {})
    return pd.DataFrame(data).to_string()


def wide_frame(pwd_col: str, values: list[str], width: int = 80) -> str:
    """A wide DataFrame that pandas wraps into blocks (`\\` after each block's header)."""
    import pandas as pd

    n = len(values)
    data = {
        "customer_id": [rng.randint(10000, 99999) for _ in range(n)],
        "email": [email() for _ in range(n)],
        "signup_date": [f"2024-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}" for _ in range(n)],
        "plan": [rng.choice(["free", "pro", "team"]) for _ in range(n)],
        "country": [rng.choice(["DE", "FR", "US", "JP"]) for _ in range(n)],
        pwd_col: values,
        "monthly_spend": [round(rng.uniform(0, 300), 2) for _ in range(n)],
    }
    with pd.option_context("display.width", width, "display.max_columns", None):
        return repr(pd.DataFrame(data))


def truncated_frame(pwd_col: str, values: list[str]) -> str:
    """A DataFrame shown with hidden middle columns (`...`)."""
    import pandas as pd

    n = len(values)
    data = {"id": list(range(1, n + 1)), pwd_col: values}
    for i in range(12):
        data[f"f{i}"] = [round(rng.uniform(0, 1), 3) for _ in range(n)]
    with pd.option_context("display.max_columns", 6, "display.width", 120):
        return repr(pd.DataFrame(data))


section("positional")
# (account id, auth token) constructors, SMTP/IMAP/FTP/LDAP logins, positional DB connects
sid, tok = "AC" + hexs(32), hexs(32)
S("credential", f'from twilio.rest import Client\n\nclient = Client("{sid}", "{tok}")', tok)
sid, tok = "AC" + hexs(32), hexs(32)
S(
    "credential",
    "client = Client(\n"
    f'    "{sid}",  # account SID\n'
    f'    "{tok}",  # auth token\n)\n'
    'msg = client.messages.create(to="+15558675310", from_="+15017122661", body="hi")',
    tok,
)
p = app_password()
S(
    "password",
    "import smtplib\n\nserver = smtplib.SMTP_SSL('smtp.gmail.com', 465)\n"
    f'server.login(SENDER_EMAIL, "{p}")\nserver.sendmail(SENDER_EMAIL, to, msg.as_string())',
    p,
)
p = app_password()
S("password", f'server.login("{email()}", "{p}")', p)
p = app_password().replace(" ", "")  # the same app password typed without spaces
S(
    "password",
    f"with smtplib.SMTP('smtp.office365.com', 587) as s:\n    s.starttls()\n"
    f"    s.login(cfg['user'], '{p}')",
    p,
)
p = app_password()
S("password", f'import yagmail\nyag = yagmail.SMTP("{email()}", "{p}")\nyag.send(to, subj)', p)
p = password()
S("password", f"mail = imaplib.IMAP4_SSL('imap.gmail.com')\nmail.login(user, '{p}')", p)
p = password()
S("password", f'ftp = FTP("ftp.example.org", "reports", "{p}")\nftp.cwd("/outgoing")', p)
p = password()
S("password", f'conn = pymysql.connect("db.internal", "etl", "{p}", "warehouse")', p)
p = password()
S(
    "password",
    f"ssh = paramiko.SSHClient()\nssh.set_missing_host_key_policy(paramiko.AutoAddPolicy())\n"
    f'ssh.connect("10.0.4.12", 22, "ubuntu", "{p}")',
    p,
)
p = password()
S(
    "password",
    f'l = ldap.initialize("ldap://dc1")\nl.simple_bind_s("cn=admin,dc=corp,dc=local", "{p}")',
    p,
)
a, s_ = rand(UPPER_DIGITS, 20), rand(B64, 40)
S(
    "credential",
    f'from minio import Minio\nmc = Minio("s3.example.com:9000", "{a}", "{s_}", secure=True)',
    s_,
)
ck, cs = rand(ALNUM, 25), rand(ALNUM, 50)
S("credential", f'auth = tweepy.OAuth1UserHandler("{ck}", "{cs}")\napi = tweepy.API(auth)', cs)
k = rand(UPPER_DIGITS, 6) + "-" + rand(UPPER_DIGITS, 10)
S("credential", f'import wolframalpha\nwa = wolframalpha.Client("{k}")\nres = wa.query(q)', k)
s_ = rand(B64, 40)
S("credential", f'session = boto3.Session("{aws_id()}", "{s_}", region_name="eu-west-1")', s_)
t = rand(ALNUM, 48)
S("secret", f"from notion_client import Client\nnotion = Client(auth='secret_{t}')", t)
p = password()
S("password", f'gh = Github("octo-ops", "{p}")\nprint(gh.get_user().login)', p)
p = password()
S("password", f"es = Elasticsearch('https://es01:9200', basic_auth=('elastic', '{p}'))", p)
p = password()
S("password", f'r = requests.get(API, auth=HTTPBasicAuth(username, "{p}"))', p)
k = "key-" + hexs(32)
S("password", f'requests.post(MAILGUN_URL, auth=("api", "{k}"), data=payload)', k)
p = password()
S("password", f"!sshpass -p '{p}' scp model.pkl ubuntu@10.0.4.12:/models/", p)

section("signing_key")
# secrets handed to JWT / HMAC / Fernet / itsdangerous / AES / TOTP calls
k = rand(ALNUM, 32)
S(
    "secret",
    f'token = jwt.encode({{"sub": user_id, "exp": exp}}, "{k}", algorithm="HS256")',
    k,
)
k = phrase_secret()
S("secret", f"jwt.encode(payload, '{k}', algorithm='HS256')", k)
k = rand(URLSAFE, 43)
S("secret", f'claims = jwt.decode(tok, "{k}", algorithms=["HS256"])', k)
k = rand(ALNUM, 24)
S(
    "secret",
    f'sig = hmac.new(b"{k}", body, hashlib.sha256).hexdigest()\n'
    "assert hmac.compare_digest(sig, request.headers['X-Signature'])",
    k,
)
k = fernet_key()
S("secret", f'f = Fernet(b"{k}")\ntoken = f.encrypt(b"my deep dark secret")', k)
k = rand(ALNUM, 20)
S("secret", f's = URLSafeTimedSerializer("{k}")\nconfirm = s.dumps(email, salt="email-confirm")', k)
k = rand(ALNUM, 16)
S("secret", f"cipher = AES.new(b'{k}', AES.MODE_GCM)", k)
k = rand(BASE32, 32)
S("secret", f'totp = pyotp.TOTP("{k}")\ntotp.now()', k)
k = rand(ALNUM, 40)
S(
    "secret",
    f'from jose import jwt as jose_jwt\njose_jwt.encode(claims, "{k}", algorithm="HS512")',
    k,
)

section("keyword_call")
# keyword arguments: multi-line calls, values on the next line, concatenated or raw literals,
# env-var defaults, tokens shorter than the provider's norm
s_ = rand(B64, 40)
S(
    "aws_secret_key",
    's3 = boto3.client(\n    "s3",\n    region_name="eu-central-1",\n'
    f'    aws_access_key_id=ACCESS_KEY,\n    aws_secret_access_key=\n        "{s_}",\n)',
    s_,
)
s_ = rand(B64, 40)
S(
    "aws_secret_key",
    f"s3 = boto3.resource('s3', aws_access_key_id=KEY_ID, aws_secret_access_key=r'{s_}')",
    s_,
)
a1, a2 = rand(ALNUM, 20), rand(ALNUM, 20)
S(
    "api_key",
    f'client = OpenAI(\n    api_key=("{a1}"\n             "{a2}"),\n    base_url=BASE,\n)',
    a2,
)
t = "hf_" + rand(ALNUM, 18)
S("huggingface_token", f'from huggingface_hub import login\nlogin(token="{t}")', t)
t = rand(ALNUM, 10)
S("token", f"huggingface_hub.login(token='{t}', add_to_git_credential=False)", t)
t = hexs(24)
S("secret", f"wandb.login(key='{t}', relogin=True)", t)
p = password()
S("password", f'password = os.environ.get("PGPASSWORD", "{p}")', p)
k = rand(ALNUM, 32)
S("api_key", f'API_KEY = os.getenv("WEATHER_API_KEY", "{k}")', k)
p = password()
S(
    "password",
    'engine = create_engine(URL.create(\n    "postgresql+psycopg2",\n    username="etl",\n'
    f'    password="{p}",\n    host="db.internal",\n    database="dw",\n))',
    p,
)
k = rand(ALNUM, 27)
S(
    "secret",
    f"reddit = praw.Reddit(\n    client_id='{rand(URLSAFE, 14)}',\n    client_secret='{k}',\n"
    "    user_agent='nlp-scraper/0.1',\n)",
    k,
)
k = rand(HEX, 20)
S(
    "secret",
    f"pusher_client = pusher.Pusher(app_id='1234567', key='{hexs(20)}', secret='{k}', cluster='eu')",
    k,
)
t = rand(ALNUM, 12)
S("token", f"bot = telebot.TeleBot(token='{t}')", t)
k = rand(ALNUM, 20)
S("secret", f"gmaps = googlemaps.Client(key='{k}')", k)

section("query_string")
k = hexs(32)
S(
    "secret",
    f'resp = requests.get(f"https://api.openweathermap.org/data/2.5/weather?q={{city}}&appid={k}")',
    k,
)
k = hexs(32)
S(
    "api_key",
    f'url = "https://newsapi.org/v2/everything?q=tesla&from=2024-05-01&sortBy=publishedAt&apiKey={k}"',
    k,
)
k = rand(UPPER_DIGITS, 16)
S(
    "api_key",
    "df = pd.read_csv('https://www.alphavantage.co/query?function=TIME_SERIES_DAILY"
    f"&symbol=IBM&apikey={k}&datatype=csv')",
    k,
)
k = hexs(32)
S("api_key", f"GET https://api.themoviedb.org/3/movie/550?api_key={k} -> 200 OK", k)
k = hexs(32)
S(
    "secret",
    'INFO:urllib3.connectionpool:https://api.openweathermap.org:443 "GET /data/2.5/forecast?'
    f'lat=51.5&lon=-0.12&appid={k} HTTP/1.1" 200 None',
    k,
)
k = rand(ALNUM, 30)
S(
    "secret",
    "HTTPError: 401 Client Error: Unauthorized for url: "
    f"https://api.example.com/v1/items?limit=10&key={k}",
    k,
)
k = hexs(32)
S(
    "secret",
    f"r = requests.get('http://api.weatherstack.com/current?access_key={k}&query=Paris')",
    k,
)
k = rand(ALNUM, 30)
S(
    "secret",
    f"https://oauth.example.com/token?client_id=ml-app&client_secret={k}&grant_type=client_credentials",
    k,
)
k = rand(URLSAFE, 40)
S("secret", f"Redirected to http://localhost:8080/callback?code={k}&state=xyz", k)
k = str(uuid.UUID(int=rng.getrandbits(128)))
S("secret", f"requests.get(f'https://api.hubapi.com/contacts/v1/lists/all?hapikey={k}')", k)
k = rand(ALNUM, 40)
S("secret", f"fb = 'https://ml-demo.firebaseio.com/users.json?auth={k}'", k)
k = hexs(64)
S(
    "secret",
    "https://bucket.s3.amazonaws.com/data.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    f"&X-Amz-Date=20240501T000000Z&X-Amz-Expires=3600&X-Amz-Signature={k}",
    k,
)

section("comment_docstring")
k = hexs(32)
S("secret", f"# Dev key (do not commit): {k}\nweather = fetch_weather(city, key=KEY)", k)
k = rand(ALNUM, 40)
S("token", f"# staging token -> {k}\nclient = ApiClient(base_url=STAGING)", k)
k = rand(ALNUM, 32)
S("secret", f'BASE_URL = "https://api.example.com/v2"  # key {k}', k)
k = hexs(32)
S(
    "secret",
    f'def fetch(city):\n    """Current weather for `city`.\n\n    Uses the sandbox key {k} for now.\n'
    '    """\n    return requests.get(URL, params={"q": city}).json()',
    k,
)
k = rand(ALNUM, 32)
S("secret", f"# TODO move to vault before sharing: {k}\nclient = make_client()", k)
p = password()
S("password", f"# the password for the test db is {p}\nengine = create_engine(TEST_URL)", p)
k = rand(ALNUM, 36)
S("token", f"## Setup\n\nPersonal access token (rotate monthly): `{k}`\n\nThen run the loader.", k)
k = rand(ALNUM, 32)
S("secret", f'"""\nNotes for Ada:\n  api creds for the vendor portal\n  {k}\n"""', k)
p = password()
S("password", f"**Staging login** — user `admin`, password `{p}`", p)
k = rand(URLSAFE, 32)
S("secret", f"Your new API key is {k}. Store it somewhere safe; it will not be shown again.", k)

section("table")
vals = [password() for _ in range(3)]
S("password", "print(users)\n" + users_frame("password", vals), vals[1])
vals = [password(), app_password(), password()]
S("password", "df.head()\n" + users_frame("password", vals), vals[1])
vals = [rand(ALNUM, 32) for _ in range(3)]
S("api_key", users_frame("api_key", vals, {"active": [True, False, True]}), vals[0])
vals = [rand(URLSAFE, 40) for _ in range(4)]
S("token", users_frame("access_token", vals), vals[2])
vals = [password() for _ in range(3)]
S("password", wide_frame("password", vals), vals[0])
vals = [rand(ALNUM, 24) for _ in range(3)]
S("secret", wide_frame("client_secret", vals, width=100), vals[2])
vals = [password() for _ in range(4)]
S("password", truncated_frame("pwd", vals), vals[3])
vals = [password() for _ in range(3)]
md = "| user | password | role |\n|------|----------|------|\n" + "\n".join(
    f"| {u} | {v} | {r} |"
    for u, v, r in zip(FIRST, vals, ["admin", "analyst", "viewer"], strict=False)
)
S("password", md, vals[2])
vals = [password() for _ in range(3)]
csv_text = "!head -4 data/users.csv\nid,email,password,created\n" + "\n".join(
    f"{i},{email()},{v},2024-03-0{i}" for i, v in enumerate(vals, 1)
)
S("password", csv_text, vals[1])
vals = [password() for _ in range(2)]
S(
    "password",
    '<table border="1" class="dataframe">\n  <thead>\n    <tr style="text-align: right;">\n'
    "      <th></th>\n      <th>user</th>\n      <th>password</th>\n    </tr>\n  </thead>\n"
    "  <tbody>\n"
    + "".join(
        f"    <tr>\n      <th>{i}</th>\n      <td>{u}</td>\n      <td>{v}</td>\n    </tr>\n"
        for i, (u, v) in enumerate(zip(FIRST, vals, strict=False))
    )
    + "  </tbody>\n</table>",
    vals[0],
)
vals = [password() for _ in range(2)]
polars = (
    "shape: (2, 3)\n┌───────┬──────────────┬──────────────┐\n"
    "│ user  ┆ password     ┆ last_login   │\n│ ---   ┆ ---          ┆ ---          │\n"
    "│ str   ┆ str          ┆ date         │\n╞═══════╪══════════════╪══════════════╡\n"
    + "".join(
        f"│ {u:<5} ┆ {v:<12} ┆ 2024-05-0{i} │\n"
        for i, (u, v) in enumerate(zip(FIRST, vals, strict=False), 1)
    )
    + "└───────┴──────────────┴──────────────┘"
)
S("password", polars, vals[1])
vals = [rand(ALNUM, 30) for _ in range(2)]
grid = (
    "+---------+--------------------------------+\n| service | secret                         |\n"
    "+=========+================================+\n"
    + "".join(
        f"| {sv:<7} | {v:<30} |\n" for sv, v in zip(["billing", "search"], vals, strict=False)
    )
    + "+---------+--------------------------------+"
)
S("secret", grid, vals[0])
vals = [rand(ALNUM, 32), "NaN"]
S("token", users_frame("api_token", vals), vals[0])

section("dict_value")
# a secret-named key holding an ordinary-looking value
v = phrase_secret()
S(
    "secret",
    f'SETTINGS = {{\n    "DEBUG": False,\n    "SECRET_KEY": "{v}",\n    "ALLOWED_HOSTS": ["*"],\n}}',
    v,
)
v = "-".join(rng.sample(WORDS, 3))
S("secret", f"config = {{'client_id': 'ml-dashboard', 'client_secret': '{v}'}}", v)
v = rng.choice(WORDS) + str(rng.randint(100, 999)) + "key"
S("api_key", f'{{"api_key": "{v}", "timeout": 30}}', v)
v = rng.choice(WORDS) + rng.choice(WORDS)
S("secret", f"app.config.update(SECRET_KEY='{v}', SESSION_COOKIE_SECURE=True)", v)
v = phrase_secret()
S("token", f"api_token: {v}\nbase_url: https://api.example.com\nretries: 3", v)
p = password()
S("password", f'{{"auth": {{"user": "svc-etl", "pass": "{p}"}}}}', p)
p = password()
S("password", f'creds = ("svc-etl", "{p}")\nr = requests.get(url, auth=creds)', p)
v = rand(ALNUM, 10)
S("token", f"payload = {{'username': 'bot', 'token': '{v}', 'channel': '#ml-alerts'}}", v)
p = password()
S("password", f'pw = "{p}"\nconn = connect(user="etl", password=pw)', p)
v = phrase_secret()
S("secret", f'st.secrets = {{"signing_secret": "{v}"}}', v)

section("dataflow")
# a literal bound to an innocuous name, then handed to a credential API or header
sid, tok = "AC" + hexs(32), hexs(32)
S("credential", f'sid, tok = "{sid}", "{tok}"\nclient = Client(sid, tok)', tok)
t = rand(ALNUM, 40)
S("secret", f'tk = "{t}"\nheaders = {{"Authorization": f"Bearer {{tk}}"}}', t)
k = hexs(32)
S("secret", f'k = "{k}"\nurl = f"{{BASE}}/weather?q={{city}}&appid={{k}}"', k)
p = password()
S("password", f'EMAIL = "{email()}"\nAPP_PW_VALUE = "{p}"\nserver.login(EMAIL, APP_PW_VALUE)', p)
k = rand(ALNUM, 32)
S("secret", f'OWM = "{k}"\nparams = {{"q": "Berlin", "appid": OWM}}', k)
k = rand(ALNUM, 28)
S("secret", f'signer = "{k}"\nencoded = jwt.encode(payload, signer, algorithm="HS256")', k)

section("off_norm")
# provider prefixes with a body shorter or longer than the provider's usual length
t = "ghp_" + rand(ALNUM, 24)
S("github_token", f'g = Github("{t}")', t)
t = "sk-" + rand(ALNUM, 16)
S("openai_key", f'openai.OpenAI("{t}").models.list()', t)
t = "xoxb-" + str(rng.randint(10**9, 10**10)) + "-" + rand(ALNUM, 8)
S("slack_token", f'print("bot:", "{t}")', t)
t = "glpat-" + rand(URLSAFE, 14)
S("gitlab_token", f"!git remote set-url origin https://oauth2:{t}@gitlab.com/org/repo.git", t)
t = "sk_live_" + rand(ALNUM, 8)
S("stripe_key", f"stripe.StripeClient('{t}')", t)
t = "AIza" + rand(URLSAFE, 30)
S("google_api_key", f"youtube = build('youtube', 'v3', developerKey='{t}')", t)
t = "npm_" + rand(ALNUM, 20)
S("npm_token", f"!npm config set //registry.npmjs.org/:_authToken {t}", t)
t = "hf_" + rand(ALNUM, 70)
S("huggingface_token", f"pipe = pipeline('text-generation', model=m, token='{t}')", t)
t = "dapi" + hexs(20)
S(
    "databricks_token",
    f"DATABRICKS_HOST, DATABRICKS_TOKEN = 'https://adb-1.azuredatabricks.net', '{t}'",
    t,
)

section("digest")
# kernel digest lines: `name: type = summary`
p = app_password()
S("password", f"smtp_pass: str = '{p}'\nsmtp_user: str = 'ada.ops@example.com'", p)
p = password()
S("password", f"creds: dict = len 2: {{'user': 'etl', 'pass': '{p}'}}", p)
k = hexs(32)
S("secret", f"TWILIO_AUTH: str = '{k}'\nclient: Client = <Client>", k)
k = rand(ALNUM, 32)
S("api_key", f"headers: dict = len 2: {{'Accept': 'application/json', 'X-Api-Key': '{k}'}}", k)
k = hexs(32)
S("secret", f"weather_appid: str = '{k}'\ncity: str = 'London'", k)

section("traceback")
sid, tok = "AC" + hexs(32), hexs(32)
S(
    "credential",
    "---------------------------------------------------------------------------\n"
    "TwilioRestException                       Traceback (most recent call last)\n"
    "Cell In[4], line 3\n      1 from twilio.rest import Client\n"
    f'----> 3 client = Client("{sid}", "{tok}")\n'
    "TwilioRestException: HTTP 401 error: Unable to create record: Authenticate",
    tok,
)
p = app_password()
S(
    "password",
    'Traceback (most recent call last):\n  File "<ipython-input-7>", line 2, in <module>\n'
    f'    server.login(sender, "{p}")\nsmtplib.SMTPAuthenticationError: (535, b\'5.7.8 Username '
    "and Password not accepted.')",
    p,
)
k = hexs(32)
S(
    "secret",
    "ConnectionError: HTTPSConnectionPool(host='api.openweathermap.org', port=443): Max retries "
    f"exceeded with url: /data/2.5/weather?q=London&appid={k} (Caused by NewConnectionError)",
    k,
)
k = rand(ALNUM, 32)
S(
    "secret",
    "InvalidSignatureError                     Traceback (most recent call last)\n"
    f"----> 1 jwt.decode(t, '{k}', algorithms=['HS256'])\nInvalidSignatureError: Signature "
    "verification failed",
    k,
)

section("positional")
t = rand(ALNUM, 64)
S(
    "credential",
    f'from binance.client import Client\nclient = Client("{rand(ALNUM, 64)}", "{t}")',
    t,
)
p = password()
S("password", f'r = redis.StrictRedis("cache.internal", 6379, 0, "{p}")', p)
p = password()
S("password", f'conn = SMBConnection("ada", "{p}", "laptop", "fileserver", use_ntlm_v2=True)', p)
p = password()
S(
    "password",
    f'creds = pika.PlainCredentials("ingest", "{p}")\nparams = pika.ConnectionParameters("mq", credentials=creds)',
    p,
)
p = password()
S("password", f'ctx = snowflake.connector.connect("etl_user", "{p}", "xy12345.eu-west-1")', p)
s_ = rand(URLSAFE + "~.", 40)
S("password", f'cred = ClientSecretCredential(TENANT_ID, CLIENT_ID, "{s_}")', s_)
p = password()
S("password", f'keyring.set_password("vendor-portal", "ada", "{p}")', p)
t = "sl." + rand(URLSAFE, 130)
S("credential", f'dbx = dropbox.Dropbox("{t}")\ndbx.files_list_folder("")', t)
a, b, c, d = (rand(ALNUM, 25), rand(ALNUM, 50), rand(ALNUM, 40), rand(ALNUM, 45))
S("credential", f'oauth = OAuth1("{a}", "{b}", "{c}", "{d}")\nrequests.get(url, auth=oauth)', d)
t = rand(ALNUM, 32)
S("credential", f'client = Client(os.environ["TWILIO_SID"], "{t}")', t)
k = azure_key()
S(
    "secret",
    f'spark.conf.set(\n    "fs.azure.account.key.mldata.dfs.core.windows.net",\n    "{k}",\n)',
    k,
)
s_ = rand(B64, 40)
S("secret", f'hadoop_conf.set("fs.s3a.secret.key", "{s_}")', s_)
p = password()
S(
    "password",
    f"ftp = ftplib.FTP_TLS('ftp.example.org')\nftp.login('reports', '{p}')\nftp.prot_p()",
    p,
)

section("query_string")
k = hexs(40)
S("token", f'!wget -q "https://data.example.org/export?format=csv&token={k}" -O raw.csv', k)
k = rand(URLSAFE, 20)
S("token", f"projects = requests.get(f'{{GITLAB}}/api/v4/projects?private_token={k}').json()", k)

section("comment_docstring")
p = password()
S("password", f"cfg = load_cfg()  # pw: {p}", p)
k = hexs(32)
S("secret", f"- Account SID: AC{hexs(32)}\n- Auth Token: {k}\n- From: +15017122661", k)
k = rand(ALNUM, 32)
S("secret", f"ValueError: Invalid API key: '{k}'", k)
p = password()
S("password", f"%%sql\nCREATE USER reporting WITH PASSWORD '{p}';", p)
p = password()
S("password", f"!docker run -d -e POSTGRES_PASSWORD={p} -p 5432:5432 postgres:16", p)
k = rand(ALNUM, 40)
S("api_key", f'Sys.setenv(OPENAI_API_KEY = "{k}")\nlibrary(ellmer)', k)

section("table")
vals = [password() for _ in range(3)]
md = "|    | user   | password     |\n|---:|:-------|:-------------|\n" + "\n".join(
    f"| {i:>2} | {u:<6} | {v:<12} |" for i, (u, v) in enumerate(zip(FIRST, vals, strict=False))
)
S("password", "print(df.to_markdown())\n" + md, vals[0])
vals = [password() for _ in range(2)]
styler = (
    '<table id="T_5f2a1">\n  <thead>\n    <tr>\n      <th class="blank level0" >&nbsp;</th>\n'
    '      <th id="T_5f2a1_level0_col0" class="col_heading level0 col0" >user</th>\n'
    '      <th id="T_5f2a1_level0_col1" class="col_heading level0 col1" >password</th>\n'
    "    </tr>\n  </thead>\n  <tbody>\n"
    + "".join(
        f'    <tr>\n      <th id="T_5f2a1_level0_row{i}" class="row_heading level0 row{i}" >{i}</th>\n'
        f'      <td id="T_5f2a1_row{i}_col0" class="data row{i} col0" >{u}</td>\n'
        f'      <td id="T_5f2a1_row{i}_col1" class="data row{i} col1" >{v}</td>\n    </tr>\n'
        for i, (u, v) in enumerate(zip(FIRST, vals, strict=False))
    )
    + "  </tbody>\n</table>"
)
S("password", styler, vals[1])
vals = [rand(URLSAFE, 36) for _ in range(3)]
S("token", users_frame("session_token", vals), vals[1])
vals = [password() for _ in range(3)]
S("password", users_frame("passwd", vals, {"uid": [1001, 1002, 1003]}), vals[2])

section("digest")
p = password()
S("password", f"cfg: dict = len 3: {{'host': 'db', 'user': 'etl', 'pwd': '{p}'}}", p)
p = password()
S("password", f"conn_str: str = 'Server=sql01;Database=dw;User Id=etl;Password={p};'", p)
k = "sk-proj-" + rand(URLSAFE, 72)
S("openai_key", f"api_key: str = '{k}'… (len 164)", k)

section("off_norm")
t = "sk-proj-" + rand(URLSAFE, 30)
S("openai_key", f"llm = ChatOpenAI(model='gpt-4o', openai_api_key='{t}')", t)
t = "xoxp-" + rand(ALNUM, 14)
S("slack_token", f"The user token xoxp was revoked; new one is {t}", t)


# --- round 2 look-alikes: the places the context rules look at, holding no secret -----------------
NEG_KIND = "call"
run_hex = hexs(32)
rev = hashlib.sha1(b"bert-base-uncased").hexdigest()
ds_rev = hashlib.sha1(b"imdb").hexdigest()
oid = hexs(24)
u2 = str(uuid.UUID(int=rng.getrandbits(128)))
N(
    'client = Client(os.environ["TWILIO_ACCOUNT_SID"], os.environ["TWILIO_AUTH_TOKEN"])',
    'os.environ["TWILIO_AUTH_TOKEN"]',
)
N('server.login(SENDER_EMAIL, getpass("App password: "))', 'getpass("App password: ")')
N("from huggingface_hub import notebook_login\nnotebook_login()", "notebook_login()")
N(
    'token = jwt.encode(payload, SECRET, algorithm="HS256")',
    'jwt.encode(payload, SECRET, algorithm="HS256")',
)
N('claims = jwt.decode(token, options={"verify_signature": False})', '"verify_signature": False')
N("raw = text.encode('utf-8')\nclean = raw.decode('latin-1', errors='ignore')", "'latin-1'")
N(
    'from dask.distributed import Client\nclient = Client("tcp://10.0.0.5:8786")',
    "tcp://10.0.0.5:8786",
)
N('client = bigquery.Client(project="ml-prod-2024")', "ml-prod-2024")
N('qdrant = QdrantClient("localhost", port=6333)', '"localhost"')
N(f'run = uuid.UUID("{u2}")', u2)
N(f'doc = db.users.find_one({{"_id": ObjectId("{oid}")}})', oid)
N('iv = bytes.fromhex("000102030405060708090a0b0c0d0e0f")', "000102030405060708090a0b0c0d0e0f")
N("key = Fernet.generate_key()\nf = Fernet(key)", "Fernet(key)")
N(
    'engine = create_engine(URL.create("postgresql", username="etl", '
    'password=os.environ["PGPASSWORD"], host="db"))',
    'os.environ["PGPASSWORD"]',
)
N('s3 = boto3.client("s3", region_name="eu-west-1")', '"eu-west-1"')
N(
    "mc = Minio('play.min.io', access_key=ACCESS_KEY, secret_key=SECRET_KEY)",
    "secret_key=SECRET_KEY",
)
N(
    f'hf_hub_download(repo_id="bert-base-uncased", filename="config.json", revision="{rev}")',
    rev,
)
N(f'ds = load_dataset("imdb", revision="{ds_rev}")', ds_rev)
N(f'run = mlflow.get_run("{run_hex}")\nrun.data.metrics', run_hex)
N('wandb.init(project="churn", id="3kx9v2qz", resume="allow")', "3kx9v2qz")
N('client = Client("ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "your_auth_token")', "your_auth_token")
N('server.login("you@example.com", "<app password>")', "<app password>")
N('encoded = jwt.encode({"some": "payload"}, "secret", algorithm="HS256")', '"secret"')
N('hmac.compare_digest(sig, expected)\nhashlib.sha256(b"train.csv").hexdigest()', 'b"train.csv"')
N("torch.manual_seed(1234567890)\nnp.random.seed(20240501)", "1234567890")
N("repo.git.checkout('3f2a1bc')", "3f2a1bc")
N('pattern = re.compile(r"[A-Za-z0-9]{32}")', "[A-Za-z0-9]{32}")
N(
    'client = AzureOpenAI(api_version="2024-02-15-preview", azure_endpoint=ENDPOINT)',
    "2024-02-15-preview",
)

NEG_KIND = "query_string"
N("https://api.example.com/v1/search?q=London&units=metric&lang=en&page=2", "q=London&units=metric")
N(f"https://api.github.com/repos/org/repo/commits?sha={commit}&per_page=5", f"sha={commit}")
N("https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42s", "v=dQw4w9WgXcQ")
drive_id = "1" + rand(URLSAFE, 32)
N(f"!gdown 'https://drive.google.com/uc?id={drive_id}&export=download'", drive_id)
N("https://huggingface.co/datasets/org/x/resolve/main/train.csv?download=true", "download=true")
N("GET /api/items?updated_since=2024-05-01T00:00:00Z&limit=100 200", "updated_since=2024-05-01T00")
N(f"https://api.example.com/v1/runs?run_id={run_hex}&fields=metrics", run_hex)
N("https://zenodo.org/records/1234567/files/data.zip?download=1", "records/1234567")

NEG_KIND = "comment"
N(f"# sha256 of the raw file: {sha}\ndf = pd.read_parquet(RAW)", sha)
N("# fixed in 3f2a1bc (see PR #128)\ndf = df.dropna()", "3f2a1bc")
N(f"# checksum from the release page: {md5}\nassert digest == EXPECTED", md5)
N(f'def digest(path):\n    """Return the md5 of a file, e.g. \'{md5}\'."""', md5)
N(
    "# API key is read from the OPENAI_API_KEY environment variable\nclient = OpenAI()",
    "OPENAI_API_KEY",
)
N('# token = os.environ["GITHUB_TOKEN"]\ng = Github(auth=auth)', 'os.environ["GITHUB_TOKEN"]')
N("# password must be at least 12 characters and include a digit", "at least 12 characters")
N("Set the **API key** in the sidebar (Settings → Keys), then rerun.", "Settings → Keys")
N("# run id: 3kx9v2qz (wandb)", "3kx9v2qz")
N("# colour scheme: #1f77b4, #ff7f0e, #2ca02c", "#1f77b4, #ff7f0e, #2ca02c")
N("# the token budget is 4096 per request", "4096")

NEG_KIND = "table"
N(
    frame_text(
        {
            "user": ["ada", "grace", "alan"],
            "password_strength": ["strong", "weak", "medium"],
            "password_length": [16, 6, 10],
        }
    ),
    "password_strength",
)
N(
    frame_text(
        {
            "token": ["the", "model", "##ing", "[CLS]"],
            "pos": ["DET", "NOUN", "X", "X"],
            "count": [1520, 311, 97, 64],
        }
    ),
    "##ing",
)
N(
    frame_text(
        {"key": ["learning_rate", "batch_size", "optimizer"], "value": ["0.001", "32", "adamw"]}
    ),
    "learning_rate",
)
N(
    frame_text({"service": ["openai", "cohere"], "api_key_set": [True, False]}),
    "api_key_set",
)
N(
    frame_text({"file": ["train.csv", "test.csv"], "md5": [md5, hexs(32)]}),
    md5,
)
N(
    frame_text({"user_id": [u, u2], "sessions": [12, 3]}),
    u2,
)
N(
    frame_text({"session": [1, 2, 3], "duration_s": [312.5, 98.1, 45.0]}),
    "312.5",
)
N(
    frame_text({"user": ["ada", "bob"], "password_reset_count": [0, 3]}),
    "password_reset_count",
)
N(
    "| key | description |\n|-----|-------------|\n| api_key | The API key used for the vendor |\n"
    "| timeout | Seconds before giving up |",
    "The API key used for the vendor",
)
N(
    frame_text({"token_count": [512, 1024], "secret_santa": ["ada", "grace"]}),
    "token_count",
)
N(
    '<table class="dataframe">\n<thead><tr><th></th><th>user</th><th>password_changed</th></tr></thead>\n'
    "<tbody><tr><th>0</th><td>ada</td><td>2024-03-01</td></tr></tbody>\n</table>",
    "2024-03-01",
)
N(
    frame_text(
        {"commit": ["3f2a1bc", "9e8d7c6"], "author": ["ada", "grace"], "tokens": [1532, 880]}
    ),
    "3f2a1bc",
)

NEG_KIND = "settings"
N("settings = {'api_key': None, 'timeout': 30}", "'api_key': None")
N('client = OpenAI(api_key="EMPTY", base_url="http://localhost:8000/v1")', '"EMPTY"')
N("creds = {'password': '', 'user': 'guest'}", "'user': 'guest'")
N("password_policy = {'min_length': 12, 'require_digit': True}", "'min_length': 12")
N('llm = ChatOpenAI(api_key="not-needed", base_url=LMSTUDIO_URL)', '"not-needed"')
N('resp = sm.get_secret_value(SecretId="prod/ml/openai")', "prod/ml/openai")
N("aws_secret_access_key = config['aws']['secret']", "config['aws']['secret']")
N("headers = {'X-Api-Key': API_KEY, 'Accept': 'application/json'}", "'X-Api-Key': API_KEY")

NEG_KIND = "prompt"
N('pw = getpass.getpass("Enter your SMTP app password: ")', "Enter your SMTP app password: ")
N('token = input("Paste your Hugging Face token: ")', "Paste your Hugging Face token: ")
N("export OPENAI_API_KEY=<your key>", "<your key>")
N("Authorization: Bearer <token>", "Bearer <token>")

NEG_KIND = "other"
N(f"!git log --oneline -3\n3f2a1bc fix leakage\n9e8d7c6 add features\n{commit[:7]} init", "9e8d7c6")
N(f"!git rev-parse HEAD\n{commit}", commit)
N("Saved model to models/churn-9f2c1d0e.pkl", "churn-9f2c1d0e.pkl")
N(f"FROM python@sha256:{sha}", sha)
sri = "sha384-" + base64.b64encode(bytes(rng.getrandbits(8) for _ in range(48))).decode()
N(f'<script src="https://cdn.example.com/lib.js" integrity="{sri}" crossorigin="anonymous">', sri)
N("MAC 00:1A:2B:3C:4D:5E on eth0, inet6 fe80::21a:2bff:fe3c:4d5e", "fe80::21a:2bff:fe3c:4d5e")
N("print(f'Token count: {n}')\nToken count: 1532", "Token count: 1532")
N(
    "tokens = tokenizer.tokenize('Hello world')\nprint(tokens)\n['hello', 'world']",
    "['hello', 'world']",
)
N(
    "openai.AuthenticationError: Error code: 401 - Incorrect API key provided: sk-proj-****abcd",
    "sk-proj-****abcd",
)
N("df.to_csv(f's3://bucket/{run_id}/preds.csv', index=False)", "{run_id}")


# =================================================================================================
# Round 3: a fresh batch written after the context rules, as a generalisation check (first
# run: 48 of 52 blocked, 40 of 40 kept; the four misses led to general fixes — a hex key handed
# to a constructor, a two-word column name "api key", "private" as a weak name, `bot.run(…)`).
# =================================================================================================


def pw2() -> str:
    return (
        rng.choice(["Sunset", "Ranger", "Pepper", "Nova", "Kilo"])
        + rng.choice("!#$%&*")
        + str(rng.randint(10, 999))
        + rng.choice(["a", "Zq", "m"])
    )


section("positional")
t = hexs(32)
S("password", f'mj = Client(auth=("{hexs(32)}", "{t}"), version="v3.1")', t)
t = rand(ALNUM, 40)
S("credential", f'api = KrakenAPI(krakenex.API("{rand(ALNUM, 56)}", "{t}"))', t)
p = pw2()
S("password", f'con = cx_Oracle.connect("scott", "{p}", "db.internal/orclpdb1")', p)
p = pw2()
S("password", f'session.auth = ("svc_reader", "{p}")', p)
p = pw2()
S("password", f'smtp.login(os.environ["SMTP_USER"], "{p}")', p)
p = app_password()
S("password", f'mailserver.login(me, "{p}")', p)
t = rand(ALNUM, 28)
S("credential", f'bot = discord.Client(intents=intents)\nbot.run("{t}")', t)
t = rand(ALNUM, 35)
S(
    "credential",
    f"sp = spotipy.Spotify(auth_manager=SpotifyClientCredentials('{hexs(32)}', '{t}'))",
    t,
)
t = hexs(32)
S("credential", f"owm = pyowm.OWM('{t}')", t)
t = rand(ALNUM, 24)
S("password", f"ig = instaloader.Instaloader()\nig.login('ada.lovelace', '{t}')", t)
t = rand(URLSAFE, 43)
S("credential", f"signing_key = jwk.JWK(k='{t}', kty='oct')", t)
t = rand(ALNUM, 30)
S("secret", f"serializer = TimestampSigner('{t}')", t)
t = rand(ALNUM, 20)
S("api_key", f"kite = KiteConnect(api_key='{t}')", t)
p = pw2()
S("password", f"ftps = FTP_TLS(host='files.example.com', user='bi', passwd='{p}')", p)

section("query_string")
t = hexs(32)
S(
    "api_key",
    f"r = requests.get('https://api.nasa.gov/planetary/apod?api_key={t}&date=2024-05-01')",
    t,
)
t = rand(ALNUM, 24)
S("secret", f"https://maps.example.com/staticmap?center=Paris&zoom=12&size=640x400&k={t}", t)
t = hexs(40)
S("secret", f"!curl 'https://api.example.io/v2/export?project=42&access-key={t}'", t)
t = rand(ALNUM, 36)
S("token", f"Fetching https://example.com/feed.xml?auth_token={t} ... done", t)
t = hexs(32)
S("secret", f"params = {{'lat': 52.5, 'lon': 13.4, 'appid': '{t}', 'units': 'metric'}}", t)

section("comment_docstring")
t = rand(ALNUM, 32)
S("secret", f"client = WeatherClient()  # prod key: {t}", t)
t = hexs(40)
S("token", f'"""Loader for the vendor feed.\n\nAPI token: {t}\n"""', t)
t = rand(ALNUM, 26)
S("token", f"# NOTE: temporary token {t} (expires Friday)", t)
t = rand(ALNUM, 30)
S("secret", f"> The shared secret for the webhook is `{t}`.", t)
p = pw2()
S("password", f"- staging db password: {p}\n- prod: ask Grace", p)
t = rand(ALNUM, 40)
S("secret", f"# {t}\nclient = Client(os.environ['KEY'])", t)
t = rand(ALNUM, 32)
S("token", f"Token copied to clipboard: {t}", t)

section("table")
vals = [pw2(), pw2()]
S("password", frame_text({"login": ["ada", "bob"], "pass": vals}), vals[1])
vals = [rand(ALNUM, 30), rand(ALNUM, 30)]
S(
    "secret",
    frame_text({"name": ["svc1", "svc2"], "secret_key": vals, "enabled": [True, False]}),
    vals[0],
)
vals = [hexs(32), hexs(32)]
S(
    "api_key",
    "| env | api key |\n|---|---|\n"
    + "\n".join(f"| {e} | {v} |" for e, v in zip(["dev", "prod"], vals, strict=False)),
    vals[1],
)
vals = [pw2(), pw2()]
S("password", "username\tpassword\n" + "\n".join(f"u{i}\t{v}" for i, v in enumerate(vals)), vals[0])
vals = [pw2() for _ in range(3)]
S(
    "password",
    wide_frame("password", vals, width=60),
    vals[2],
)

section("dict_value")
v = "-".join(rng.sample(["otter", "maple", "comet", "lagoon", "ember"], 3)) + str(
    rng.randint(1, 99)
)
S("password", f"CONFIG = dict(db_host='db', db_pass='{v}')", v)
v = rng.choice(["otter", "maple", "comet"]) + rng.choice(["lagoon", "ember"])
S("secret", f'{{"webhook_secret": "{v}"}}', v)
v = rand(ALNUM, 9)
S("secret", f"credentials = {{'user': 'ops', 'key': '{v}'}}", v)
p = pw2()
S("password", f"conn_params:\n  user: etl\n  passwd: {p}\n  host: db", p)

section("dataflow")
t = rand(ALNUM, 32)
S(
    "token",
    f'TOKEN_VALUE = "{t}"\nresp = requests.get(url, headers={{"X-Auth-Token": TOKEN_VALUE}})',
    t,
)
t = hexs(32)
S("api_key", f'my_k = "{t}"\nnews = NewsApiClient(api_key=my_k)', t)
p = pw2()
S("password", f'PW = "{p}"\nengine = create_engine(f"postgresql://etl:{{PW}}@db/app")', p)
t = rand(ALNUM, 30)
S(
    "secret",
    f'auth_value = "{t}"\nrequests.get(url, headers={{"Authorization": "Bearer " + auth_value}})',
    t,
)

section("off_norm")
t = "ghp_" + rand(ALNUM, 20)
S("github_token", f"print('using', '{t}')", t)
t = "sk-" + rand(ALNUM, 12)
S("openai_key", f"openai.api_base, key = BASE, '{t}'", t)
t = "xoxb-" + rand(ALNUM, 10)
S("slack_token", f"slack = WebClient('{t}')", t)
t = "glpat-" + rand(ALNUM, 10)
S("gitlab_token", f"GL = '{t}'", t)

section("digest")
p = pw2()
S("password", f"db_pw: str = '{p}'", p)
t = rand(ALNUM, 30)
S("secret", f"auth: tuple = ('etl', '{t}')", t)
t = hexs(32)
S("secret", f"keys: dict = len 2: {{'public': 'pk_1', 'private': '{t}'}}", t)

section("traceback")
p = pw2()
S(
    "password",
    f'---> 12 conn = psycopg2.connect(host, "etl", "{p}")\n'
    "OperationalError: FATAL: password authentication failed",
    p,
)
t = rand(ALNUM, 32)
S(
    "api_key",
    f"HTTPError: 403 Client Error: Forbidden for url: https://api.example.com/v1/data?apikey={t}",
    t,
)

NEG_KIND = "call"
N("auth = ('user', os.environ['PASSWORD'])", "os.environ['PASSWORD']")
N("smtp.login(user, password)", "smtp.login(user, password)")
N("client = Client()  # reads TWILIO_* env vars", "TWILIO_*")
N("owm = pyowm.OWM(os.environ['OWM_KEY'])", "os.environ['OWM_KEY']")
N("conn = sqlite3.connect('data/app.db')", "data/app.db")
N("con = duckdb.connect(database=':memory:')", ":memory:")
N("jwt.decode(token, public_key, algorithms=['RS256'])", "algorithms=['RS256']")
N("hashlib.pbkdf2_hmac('sha256', password.encode(), salt, 100_000)", "'sha256'")
N("server.login(cfg.user, cfg.password)", "cfg.password")
N("api = tweepy.API(auth, wait_on_rate_limit=True)", "wait_on_rate_limit=True")
N("tok = AutoTokenizer.from_pretrained('mistralai/Mistral-7B-Instruct-v0.2')", "Instruct-v0.2")
N("mlflow.set_tracking_uri('http://mlflow.internal:5000')", "mlflow.internal:5000")
N("run = client.create_run(experiment_id='412345678901234')", "412345678901234")
N("totp = pyotp.TOTP(user.otp_secret)", "user.otp_secret")
N("fernet = Fernet(os.environ['FERNET_KEY'].encode())", "os.environ['FERNET_KEY']")
N("doc_ref = db.collection('users').document('alovelace')", "alovelace")
N("ObjectId('507f1f77bcf86cd799439011')", "507f1f77bcf86cd799439011")
N("video = YouTube('https://youtu.be/dQw4w9WgXcQ')", "dQw4w9WgXcQ")
N("nb = nbformat.read('analysis.ipynb', as_version=4)", "as_version=4")
N("sig = inspect.signature(func)", "inspect.signature(func)")

NEG_KIND = "table"
N("df = pd.DataFrame({'pass': [True, False], 'score': [0.9, 0.4]})", "'pass': [True, False]")
N(frame_text({"student": ["ada", "bob"], "pass": [True, False], "score": [0.91, 0.42]}), "0.91")
N(
    "| step | key | value |\n|---|---|---|\n| 1 | lr | 0.001 |\n| 2 | epochs | 10 |",
    "| lr | 0.001 |",
)
N("username\tpassword_set\nada\tTrue\nbob\tFalse", "ada\tTrue")
N(frame_text({"user_id": ["u_9f2c1d", "u_03ab77"], "session_length": [312.5, 41.0]}), "u_9f2c1d")
N("df.loc[df['token'] == 'the', 'count'] += 1", "'the'")

NEG_KIND = "query_string"
N("r = requests.get('https://api.example.com/v1/items?page=3&per_page=50&sort=created')", "page=3")
N("https://www.google.com/search?q=pandas+groupby+multiple+columns&oq=pandas", "q=pandas+groupby")
N("https://arxiv.org/abs/2504.13171?context=cs.AI", "2504.13171")

NEG_KIND = "comment"
N("# key: see 1Password entry 'Vendor API'", "see 1Password entry")
N("git commit -m 'rotate keys' && git push  # abc1234", "abc1234")
N("palette = sns.color_palette(['#4C72B0', '#DD8452', '#55A868'])", "#4C72B0")

NEG_KIND = "other"
N("model_id = 'sentence-transformers/all-MiniLM-L6-v2'", "all-MiniLM-L6-v2")
N("secret_santa = dict(zip(names, random.sample(names, len(names))))", "random.sample")
N("print('Login successful for user ada@example.com')", "ada@example.com")
N("Session ID: 3f9c2a", "3f9c2a")
N("key_columns = ['customer_id', 'order_id']", "customer_id")
N("auth_url = 'https://accounts.example.com/o/oauth2/auth'", "o/oauth2/auth")
N("client_id = '1234567890-abc123def456.apps.googleusercontent.com'", "apps.googleusercontent.com")
N("password_hash: str = '$2b$12$' ... (len 60)", "password_hash: str")


# =================================================================================================
# Round 4: a second fresh batch (first run: 29 of 36 blocked, 26 of 26 kept; general fixes for
# the misses: a 0x-prefixed key, secrets in webhook URL paths, "login: user / password",
# "the `X-API-KEY` header must be …", `;`-separated CSV, typing into a password field).
# =================================================================================================


def pw3() -> str:
    return (
        rng.choice(["Winter", "Bravo", "Delta", "Echo", "Lotus"])
        + rng.choice("!#$%&*@")
        + str(rng.randint(10, 9999))
    )


section("keyword_call")
t = rand(ALNUM, 32)
S("credential", f'client = MailChimp(mc_api="{t}-us6", mc_user="ada")', t)
t = hexs(32)
S("api_key", f"fred = Fred(api_key='{t}')", t)
p = pw3()
S("password", f"client = Client(host='ch.internal', user='default', password='{p}')", p)
t = rand(ALNUM, 36)
S("token", f"trello = TrelloClient(api_key='{hexs(32)}', token='{t}')", t)
t = rand(ALNUM, 40)
S("secret", f"cloudinary.config(cloud_name='demo', api_key='123456789012345', api_secret='{t}')", t)
t = rand(ALNUM, 32)
S(
    "secret",
    f"firebase_admin.initialize_app(cred, {{'databaseURL': DB, 'databaseAuthVariableOverride': "
    f"'{t}'}})",
    t,
)
t = hexs(32)
S("secret", f"weather = requests.get(BASE, params=dict(q=city, APPID='{t}'))", t)

section("positional")
t = rand(ALNUM, 40)
S("credential", f"airtable = Airtable('appXYZ', 'Contacts', '{t}')", t)
p = pw3()
S("password", f"!mysql -h db -u root -p'{p}' shop < dump.sql", p)
p = pw3()
S("password", f"neo = GraphDatabase.driver('bolt://neo:7687', auth=basic_auth('neo4j', '{p}'))", p)
t = rand(ALNUM, 24)
S("password", f"reddit.login('bot_user', '{t}')", t)
t = hexs(64)
S("credential", f"w3 = Web3(); acct = w3.eth.account.from_key('0x{t}')", t)
t = rand(ALNUM, 20)
S("credential", f"ngrok.set_auth_token('{t}')", t)
p = pw3()
S("password", f"pw_field.send_keys('{p}')", p)
p = pw3()
S("password", f"driver.find_element(By.ID, 'password').send_keys('{p}')", p)
p = pw3()
S("password", f"page.fill('#password', '{p}')", p)

section("url_path")
t = rand(ALNUM, 30)
S("secret", f"requests.post('https://hooks.zapier.com/hooks/catch/123456/{t}/', json=row)", t)

section("comment_docstring")
t = rand(ALNUM, 48)
S("secret", f"openai.api_key = get_key() or '{t}'", t)
p = pw3()
S("password", f"# login: admin / {p}", p)
t = rand(ALNUM, 32)
S("token", f'"""\nUsage:\n    export VENDOR_TOKEN={t}\n    python fetch.py\n"""', t)
t = rand(ALNUM, 32)
S("api_key", f"The `X-API-KEY` header must be {t} for prod.", t)
p = pw3()
S("password", f"Password for the shared drive: {p}", p)
t = rand(ALNUM, 28)
S("token", f"print(f'token={{tok}}')\ntoken={t}", t)

section("table")
vals = [rand(ALNUM, 32) for _ in range(2)]
S("api_key", frame_text({"provider": ["a", "b"], "apiKey": vals}), vals[0])
vals = [pw3() for _ in range(2)]
S("password", frame_text({"user": ["a", "b"], "Password": vals}), vals[1])
vals = [pw3() for _ in range(2)]
S("password", "user;password\n" + "\n".join(f"u{i};{v}" for i, v in enumerate(vals)), vals[1])

section("dict_value")
p = pw3()
S("password", f"db_settings = {{\n    'user': 'etl',\n    'pwd': '{p}',\n}}", p)
t = rand(ALNUM, 32)
S("api_key", f"HEADERS = {{'X-RapidAPI-Key': '{t}', 'X-RapidAPI-Host': 'api.example.com'}}", t)
t = rand(ALNUM, 30)
S("secret", f"cfg = Config(); cfg.api_secret = '{t}'", t)
t = rand(ALNUM, 40)
S("token", f"!export GITHUB_TOKEN={t}", t)
t = rand(ALNUM, 30)
S("token", f'TOKEN = ("{t[:15]}"\n         "{t[15:]}")', t[15:])
t = rand(ALNUM, 32)
S("secret", f'creds = {{"key": "{t}"}}\nclient = Client(**creds)', t)

section("dataflow")
t = rand(ALNUM, 32)
S("secret", f'k1 = "{t}"\nclient = OpenAI(api_key=k1)', t)

section("digest")
t = rand(ALNUM, 40)
S("api_key", f"api_key: str = '{t[:20]}'… (len 40)", t[:20])
t = rand(ALNUM, 32)
S("token", f"Out[5]: {{'ok': True, 'access_token': '{t}', 'expires_in': 3600}}", t)

NEG_KIND = "call"
N("driver.find_element(By.ID, 'password').send_keys(PASSWORD)", "send_keys(PASSWORD)")
N("cloudinary.config(cloud_name='demo', secure=True)", "cloud_name='demo'")
N("ngrok.set_auth_token(os.environ['NGROK_TOKEN'])", "os.environ['NGROK_TOKEN']")
N("!mysql -h db -u root -p shop < dump.sql", "-p shop")
N("w3 = Web3(Web3.HTTPProvider('https://mainnet.infura.io/v3/' + PROJECT_ID))", "PROJECT_ID")
N("params = dict(q=city, units='metric', lang='de')", "units='metric'")
N("api = KaggleApi()\napi.authenticate()", "api.authenticate()")
N("cred = credentials.Certificate('serviceAccount.json')", "serviceAccount.json")
N("page.fill('#username', 'ada.lovelace')", "ada.lovelace")

NEG_KIND = "table"
N("  key_name  key_value\n0        a          1\n1        b          2", "key_value")
N(
    "print(df.columns)\nIndex(['user', 'password_strength', 'token_count'], dtype='object')",
    "password_strength",
)
N(
    "sessions.head(2)\n   session_id  user\n0       s_001   ada\n1       s_002   bob",
    "s_001",
)

NEG_KIND = "other"
N("Password for the shared drive: see vault", "see vault")
N(f"print(hashlib.sha1(b'abc').hexdigest())\n{hashlib.sha1(b'abc').hexdigest()}", "a9993e36")
N("%timeit tokenizer.encode(text)\n1.2 ms ± 14.1 µs per loop", "1.2 ms")
N("df.groupby('session').agg({'duration': 'mean'})", "'session'")
N("The secret to good features is domain knowledge.", "domain knowledge")
N("Key insight: churn is driven by contract length (p < 0.001).", "contract length")
N("token_ids = [101, 7592, 2088, 102]", "7592")
N(f"commit: {hashlib.sha1(b'c2').hexdigest()}", hashlib.sha1(b"c2").hexdigest())
N("with open('keys.txt') as f:\n    keys = f.read().split()", "keys.txt")
N("AUTH_TYPE = 'oauth2'\nTOKEN_URL = 'https://oauth2.googleapis.com/token'", "googleapis.com/token")
N("plt.title('Password length distribution (n=1532)')", "n=1532")
N("%env WANDB_MODE=offline", "WANDB_MODE=offline")
N("secrets = json.load(open('/run/secrets/app.json'))", "/run/secrets/app.json")
N(
    f"!git log --format=%H -1\n{hashlib.sha1(b'c3').hexdigest()}",
    hashlib.sha1(b"c3").hexdigest(),
)
N(
    "https://gist.github.com/ada/9f86d081884c7d659a2feaa0c55ad015",
    "9f86d081884c7d659a2feaa0c55ad015",
)


# =================================================================================================
# Round 5: a third fresh batch, run once before any change (35 secrets, 28 look-alikes: 33 of 35
# blocked, 27 of 28 kept). Fixed in general form: a value concatenated after "…&key=" + "…",
# a provider token followed by "...", long literals with ?, & and = are URLs, not keys.
# =================================================================================================


def pw4() -> str:
    return (
        rng.choice(["Mango", "Tundra", "Cedar", "Pluto", "Quill"])
        + rng.choice("!#$%&*@?")
        + str(rng.randint(10, 999))
        + rng.choice(["", "k", "QQ"])
    )


section("positional")
t = rand(ALNUM, 32)
S("credential", f"from pyairtable import Api\napi = Api('{t}')", t)
t = rand(ALNUM, 40)
S("credential", f"cohere_client = cohere.ClientV2('{t}')", t)
t = hexs(32)
S("credential", f"api = shodan.Shodan('{t}')", t)
p = pw4()
S("password", f"imap = imaplib.IMAP4_SSL(HOST)\nimap.login(EMAIL_ADDR, '{p}')", p)

section("keyword_call")
p = pw4()
S(
    "password",
    f"conn = pyodbc.connect(driver='{{ODBC Driver 18}}', server='sql01', uid='etl', pwd='{p}')",
    p,
)
p = pw4()
S(
    "password",
    "import paramiko\nt = paramiko.Transport(('sftp.example.com', 22))\n"
    f"t.connect(username='bi', password='{p}')",
    p,
)
t = rand(ALNUM, 30)
S("api_key", f"vo = voyageai.Client(api_key='{t}')", t)
t = rand(ALNUM, 24)
S("token", f"g = Github(login_or_token='{t}')", t)
t = rand(ALNUM, 36)
S("token", f"hf = HfApi(token='{t}')", t)
p = pw4()
S("password", f"jira = JIRA(server=URL, basic_auth=('ada@example.com', '{p}'))", p)
t = rand(ALNUM, 24)
S("token", f"jira = JIRA(server=URL, token_auth='{t}')", t)
t = rand(ALNUM, 40)
S(
    "secret",
    f"r = requests.post(url, data={{'client_id': CID, 'client_secret': '{t}', "
    "'grant_type': 'client_credentials'}})",
    t,
)
t = rand(ALNUM, 32)
S("api_key", f"anthropic.Anthropic(api_key=os.getenv('ANTHROPIC_API_KEY', '{t}'))", t)
p = pw4()
S("password", f"---> 3 ftp.login(user='reports', passwd='{p}')", p)

section("query_string")
t = hexs(32)
S("secret", f"url = BASE + '/forecast?city=Paris&key=' + '{t}'", t)
t = rand(ALNUM, 30)
S("api_key", f"qs = urlencode({{'q': 'ml', 'apiKey': '{t}'}})", t)

section("comment_docstring")
t = rand(ALNUM, 26)
S("token", f"# Access token (read-only): {t}\nrepo = gh.get_repo('org/x')", t)
p = pw4()
S("password", f'"""\nDB: postgres on db.internal\nuser: etl\npass: {p}\n"""', p)
t = rand(ALNUM, 30)
S("token", f'HTTP 401 Unauthorized: {{"detail": "Invalid token {t}"}}', t)

section("table")
t = rand(ALNUM, 32)
S("token", f"## Credentials\n\n| service | token |\n|---|---|\n| vendor | {t} |", t)
vals = [pw4() for _ in range(3)]
S(
    "password",
    frame_text({"account": ["a", "b", "c"], "pwd": vals, "role": ["x", "y", "z"]}),
    vals[1],
)
t = rand(ALNUM, 32)
S("token", f"host                     db\nuser                    etl\napi_token    {t}", t)
vals = [rand(ALNUM, 40) for _ in range(2)]
S("secret", "name,secret\nvendor-a," + vals[0] + "\nvendor-b," + vals[1], vals[1])

section("dict_value")
t = rand(ALNUM, 32)
S("secret", f"cfg = {{'openai': {{'key': '{t}', 'model': 'gpt-4o'}}}}", t)
v = "summer-harbor-" + str(rng.randint(10, 99))
S("secret", f"FLASK_SECRET_KEY = '{v}'", v)
t = rand(ALNUM, 16)
S("token", f"TOKEN = '{t}'", t)
t = rand(ALNUM, 32)
S("api_key", f"config.yaml\n---\nopenai:\n  api_key: {t}\n  model: gpt-4o", t)
p = pw4()
S("password", f"docker-compose.yml:\n  environment:\n    - POSTGRES_PASSWORD={p}", p)
p = pw4()
S("password", f"[client]\nuser = etl\npassword = {p}", p)

section("dataflow")
t = rand(ALNUM, 32)
S("api_key", f'api_key_value = "{t}"\nclient = Groq(api_key=api_key_value)', t)
t = rand(ALNUM, 32)
S("secret", f'x = "{t}"\nresp = httpx.get(url, headers={{"api-key": x}})', t)

section("off_norm")
t = rand(ALNUM, 20)
S("credential", f"print('sk-' + '{t}')", t)
t = "ghp_" + rand(ALNUM, 30)
S("github_token", f"Cloning with {t}...", t)
t = "hf_" + rand(ALNUM, 25)
S("huggingface_token", f"HF={t}", t)

section("digest")
t = rand(ALNUM, 40)
S("secret", f"client_secret: str = '{t}'", t)

NEG_KIND = "call"
N("api = Api(os.environ['AIRTABLE_API_KEY'])", "os.environ['AIRTABLE_API_KEY']")
N("cohere_client = cohere.ClientV2()", "cohere.ClientV2()")
N("jira = JIRA(server='https://jira.example.com')", "jira.example.com")
N("TOKEN = os.environ.get('TOKEN', '')", "os.environ.get('TOKEN', '')")
N("print('sk-' + suffix)", "'sk-' + suffix")
N("model = SentenceTransformer('all-mpnet-base-v2')", "all-mpnet-base-v2")
N("tokenizer.add_special_tokens({'pad_token': '[PAD]'})", "[PAD]")
N("signer = hmac.new(key, msg, hashlib.sha256)", "hmac.new(key, msg")
N("client = storage.Client.from_service_account_json('sa.json')", "sa.json")
N("session = boto3.Session(profile_name='ml-dev')", "ml-dev")
N("client = weaviate.connect_to_local()", "connect_to_local()")
N("pd.read_csv(url, storage_options={'anon': True})", "'anon': True")

NEG_KIND = "query_string"
N("url = BASE + '/forecast?city=Paris&days=5'", "city=Paris&days=5")

NEG_KIND = "comment"
N("# Access token is loaded from .env", "loaded from .env")
N('HTTP 401 Unauthorized: {"detail": "Invalid token"}', "Invalid token")

NEG_KIND = "table"
N("| service | token budget |\n|---|---|\n| vendor | 4096 |", "4096")
N(frame_text({"account": ["a", "b"], "pwd_changed": ["2024-01-01", "2024-02-01"]}), "2024-01-01")
N("  user  password_set  mfa\n0  ada          True  False", "True  False")

NEG_KIND = "settings"
N("cfg = {'openai': {'key': None, 'model': 'gpt-4o'}}", "'key': None")
N("[client]\nuser = etl\npassword =", "password =")
N("client_secret: NoneType = None", "NoneType = None")

NEG_KIND = "other"
N("df['user_hash'] = df['email'].map(lambda e: hashlib.md5(e.encode()).hexdigest())", "hexdigest()")
N("os.environ['HF_HUB_OFFLINE'] = '1'", "HF_HUB_OFFLINE")
N("auth_df = pd.read_sql('select user, last_login from auth_log', con)", "last_login")
N("sha = subprocess.check_output(['git', 'rev-parse', 'HEAD']).decode().strip()", "rev-parse")
N(f"Out[4]: '{hashlib.sha256(b'').hexdigest()}'", hashlib.sha256(b"").hexdigest())
N("print(f'{n_tokens:,} tokens, {n_keys} keys')", "n_tokens")
N("%load_ext dotenv\n%dotenv", "%dotenv")


# =================================================================================================
# Shell inside notebooks, credential files, secrets assembled at run time, markdown and HTML


section("shell_notebook")
pw = password()
S("password", f'!echo "machine api.corp.io login svc password {pw}" > ~/.netrc', pw)
pw = pw4()
S(
    "password",
    f"%%bash\ncat > ~/.netrc <<EOF\nmachine pypi.corp.io\n  login deploy\n  password {pw}\nEOF",
    pw,
)
pw = password()
S("password", f'!echo "db.corp.io:5432:analytics:etl:{pw}" > ~/.pgpass\n!chmod 600 ~/.pgpass', pw)
pw = pw4()
S(
    "password",
    f"%%bash\ncat <<'EOF' > ~/.pgpass\ndb.internal:5432:*:analyst:{pw}\nEOF\nchmod 600 ~/.pgpass",
    pw,
)
pw = password()
S("url_password", f"!pip install --index-url https://deploy:{pw}@pypi.corp.io/simple/ ml-utils", pw)
t = rand(ALNUM, 32)
S("url_token", f"!pip install --extra-index-url https://{t}@pkgs.corp.io/simple ml-utils", t)
pw = pw4()
S(
    "password",
    f"%%bash\ncat > ~/.pypirc <<EOF\n[pypi]\nusername = __token__\npassword = {pw}\nEOF",
    pw,
)
t = base64.b64encode(f"deploy:{password()}".encode()).decode()
S(
    "secret",
    '%%writefile ~/.docker/config.json\n{"auths": {"registry.corp.io": {"auth": "' + t + '"}}}',
    t,
)
t = rand(ALNUM, 28)
S("token", f"!API_TOKEN={t} python sync.py --since 2024-01-01", t)
t = rand(ALNUM, 30)
S("api_key", f'!curl -s -H "X-Api-Key: {t}" https://api.corp.io/v1/items | head', t)
pw = password()
S(
    "password",
    f"%%script bash\nexport PGPASSWORD='{pw}'\npsql -h db.internal -U etl -c 'select 1'",
    pw,
)

section("config_string")
pw = pw4()
S(
    "secret",
    f'kubeconfig = """\napiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    token: {pw}\n"""',
    pw,
)
t = rand(URLSAFE, 40)
S(
    "secret",
    f"!cat ~/.kube/config\napiVersion: v1\nclusters:\n- cluster:\n    server: https://k8s.corp.io\nusers:\n- name: ci\n  user:\n    token: {t}",
    t,
)
pw = password()
S(
    "password",
    f'conn = {{"host": "db.corp.io", "user": "etl", "port": "{pw}", "password": 5432}}',
    pw,
)
pw = pw4()
S("password", f'settings = dict(host="db.corp.io", user="etl", port="{pw}", dbname="sales")', pw)

section("assembled")
t = hexs(32)
S(
    "password",
    f'user, token = "svc", "{t}"\nauth = "%s:%s" % (user, token)\nheaders = {{"Authorization": "Basic " + base64.b64encode(auth.encode()).decode()}}',
    t,
)
pw = password()
S(
    "password",
    f'creds = "{{}}:{{}}".format("svc", "{pw}")\nheaders["Authorization"] = "Basic " + b64encode(creds.encode()).decode()',
    pw,
)
pw = pw4()
S(
    "password",
    f'tok = "{pw}"\nraw = f"svc:{{tok}}"\nheaders["Authorization"] = "Basic " + b64encode(raw.encode()).decode()',
    pw,
)
t = hexs(32)
S("session_cookie", f'session.cookies.set("sessionid", "{t}")\nr = session.get(URL)', t)
pw = password()
S("token", f'headers["X-Auth-Token"] = "{pw}"\nresp = requests.get(url, headers=headers)', pw)
t = "hvs." + rand(ALNUM, 24)
S(
    "token",
    f'client = hvac.Client(\n    url="https://vault.corp.io:8200",\n    token=\n        "{t}",\n)',
    t,
)

section("markdown")
t = hexs(64)
S(
    "signed_url",
    "![latency](https://bucket.s3.amazonaws.com/p.png?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    f"&X-Amz-Date=20240101T000000Z&X-Amz-Expires=3600&X-Amz-Signature={t})",
    t,
)
t = rand(ALNUM, 30)
S("token", f"<details><summary>Staging API token</summary>\n\n<code>{t}</code>\n</details>", t)
t = rand(ALNUM, 24)
S("token", f"| service | token |\n|---|---|\n| billing | {t} |\n| search | (none) |", t)
t = rand(B64, 43).replace("+", "%2B").replace("/", "%2F") + "%3D"
S(
    "azure_sas",
    f"[download](https://files.corp.io/export.zip?sv=2023-01-03&se=2024-06-01&sr=b&sp=r&sig={t})",
    t,
)


NEG_KIND = "shell"
N("!pip install --index-url https://pypi.org/simple/ pandas", "https://pypi.org/simple/")
N("!git clone https://github.com/pandas-dev/pandas.git", "https://github.com/pandas-dev/pandas.git")
N("%%bash\ncat ~/.netrc | wc -l\nls -la ~/.pgpass", "ls -la ~/.pgpass")
N('!echo "localhost:5432:*:postgres:*" >> ~/.pgpass', "localhost:5432:*:postgres:*")
N("!export MODEL_NAME=gpt-4o-mini && python train.py", "MODEL_NAME=gpt-4o-mini")
N(
    "!curl -s -H 'Accept: application/json' https://api.github.com/rate_limit",
    "Accept: application/json",
)

NEG_KIND = "assembled"
N('addr = "%s:%s" % (host, port)\nprint(addr)', '"%s:%s" % (host, port)')
N('label = "{}:{}".format(city, year)', '"{}:{}".format(city, year)')
N('conn = {"host": "db.internal", "port": "5432", "user": "etl"}', '"port": "5432"')
N('session.cookies.set("theme", "dark")', '"dark"')
N('headers["Accept"] = "application/json"', '"application/json"')
N(
    'kubeconfig = """\napiVersion: v1\nusers:\n- name: me\n  user:\n    token: <your-token>\n"""',
    "<your-token>",
)

NEG_KIND = "markdown"
N("![plot](https://example.org/plot.png?width=640&height=480)", "width=640&height=480")
N(f"<details><summary>Checksum</summary><code>{sha}</code></details>", sha)
N(f"| file | sha256 |\n|---|---|\n| data.csv | {sha} |", sha)
N('aws_access_key_id = "AKIAIOSFODNN7EXAMPLE"  # the key from the AWS docs', "AKIAIOSFODNN7EXAMPLE")
png = base64.b64encode(hashlib.sha256(b"png").digest() * 6).decode()
N(f'<img src="data:image/png;base64,{png}" width="300"/>', png)
run = str(uuid.UUID(int=rng.getrandbits(128), version=4))
N(f"| run | status |\n|---|---|\n| {run} | done |", run)


def main() -> None:
    with open(HERE / "secrets.jsonl", "w") as f:
        for rec in secrets:
            f.write(json.dumps(rec) + "\n")
    with open(HERE / "negatives.jsonl", "w") as f:
        for rec in negatives:
            f.write(json.dumps(rec) + "\n")
    print(f"{len(secrets)} secrets, {len(negatives)} negatives")


if __name__ == "__main__":
    main()

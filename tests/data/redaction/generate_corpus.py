"""Regenerate the redaction corpus: ``python tests/data/redaction/generate_corpus.py``.

Every secret here is FAKE: random characters from a seeded generator, shaped like the real
formats (prefix, length, alphabet) so that they exercise the redactor; none is a working
credential. Records are embedded in realistic notebook material: code cells, stream outputs,
markdown, DataFrame prints, dict reprs, tracebacks, shell commands, config files.

secrets.jsonl:   {"id", "kind", "text", "secret"}  - `secret` must not survive redaction and
                 `[REDACTED:<kind>]` must appear in the output.
negatives.jsonl: {"id", "text", "keep"}            - `keep` must survive unchanged.
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


def S(kind: str, text: str, secret: str) -> None:
    assert secret in text, (kind, secret, text)
    secrets.append({"id": f"s{len(secrets) + 1:03d}", "kind": kind, "text": text, "secret": secret})


# AWS access keys and secret keys -----------------------------------------------------------------
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
p = password()
S("password", f"## Setup\nLog in to the staging dashboard with **admin / password: {p}**.", p)
t = rand(ALNUM, 32)
S("secret", f"> **Note:** my API key: {t} (rotate after the demo)", t)

# DataFrame / dict reprs --------------------------------------------------------------------------
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


def N(text: str, keep: str) -> None:
    assert keep in text, (keep, text)
    negatives.append({"id": f"n{len(negatives) + 1:03d}", "text": text, "keep": keep})


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

"""Provider formats as one data table: private keys, tokens with a distinctive prefix
(AWS, GitHub, OpenAI, Slack, Stripe, Google, …), JWTs."""

from __future__ import annotations

import re

from .rules import (
    ALNUM,
    ALNUM_U,
    ALNUM_UH,
    Ctx,
    Rule,
    after_bot_id,
    check_mixed,
    entropy_ok,
    not_placeholder,
    query_param,
    rule,
)
from .shapes import DIGIT, LETTERS
from .values import is_placeholder, is_wordy, shannon_entropy

_PREFIX_KINDS = {
    "sk-ant-": "anthropic_key",
    "sk-": "openai_key",
    "gh": "github_token",
    "github_pat_": "github_token",
    "glpat-": "gitlab_token",
    "xox": "slack_token",
    "sk_": "stripe_key",
    "rk_": "stripe_key",
    "hf_": "huggingface_token",
    "npm_": "npm_token",
    "dapi": "databricks_token",
    "AIza": "google_api_key",
    "pypi-": "pypi_token",
    "dckr_pat_": "docker_token",
    "gsk_": "groq_key",
    "r8_": "replicate_token",
    "xai-": "xai_key",
    "SG.": "sendgrid_key",
}


_PREFIXES = (
    (r"sk-(?:ant-|proj-|svcacct-)?", ("sk-",)),
    (r"gh[pousr]_", ("gh",)),
    ("github_pat_", ("github_pat_",)),
    ("glpat-", ("glpat-",)),
    (r"xox[abposr]-", ("xox",)),
    (r"[sr]k_(?:live|test)_", ("k_live_", "k_test_")),
    ("hf_", ("hf_",)),
    ("npm_", ("npm_",)),
    ("dapi", ("dapi",)),
    ("AIza", ("AIza",)),
    ("pypi-", ("pypi-",)),
    ("dckr_pat_", ("dckr_pat_",)),
    ("gsk_", ("gsk_",)),
    ("r8_", ("r8_",)),
    ("xai-", ("xai-",)),
    (r"SG\.", ("SG.",)),
)


def _prefixed_body(value: str, ctx: Ctx) -> str | None:
    prefix, body = ctx.group("p") or "", (ctx.group("b") or "").rstrip("-_")
    if not 8 <= len(body) <= 300 or is_placeholder(value) or is_wordy(body):
        return None
    if not DIGIT.search(body) or len(LETTERS.findall(body)) < 3:
        return None
    if shannon_entropy(body) < 2.8:
        return None
    for start, kind in _PREFIX_KINDS.items():
        if prefix.startswith(start):
            return kind
    return None


# One row per format: kind, pattern, value group(s), needles (a cheap substring check), and
# options: match on lowercase, characters that must not precede, a check on the value.
FORMATS: tuple[Rule, ...] = (
    # -- private keys (multi-line; also with literal "\n" inside JSON / repr strings) ----
    rule(
        "private_key",
        r"-----BEGIN (?P<label>[A-Z0-9 ]{0,30}PRIVATE KEY(?: BLOCK)?)-----"
        r"(?:(?P<body>(?:(?!-----END ).){1,20000}?)(?=-----END (?P=label)-----)"
        r"|(?P<body2>[A-Za-z0-9+/=\s\\:,\-]{16,20000}))",
        ("body", "body2"),
        ("PRIVATE KEY",),
        flags=re.S,
    ),
    rule(
        "private_key",
        r"PuTTY-User-Key-File-\d: .*?Private-Lines: \d+(?P<body>(?:\r?\n|\\n)[A-Za-z0-9+/=]+"
        r"(?:(?:\r?\n|\\n)[A-Za-z0-9+/=]+)*)",
        ("body",),
        ("PuTTY-User-Key-File",),
        flags=re.S,
    ),
    # -- provider formats with distinctive prefixes -------------------------------------
    rule(
        "aws_access_key",
        r"A(?:KIA|SIA|BIA|CCA|GPA|IDA|ROA|IPA|NPA|NVA|PKA|3T[A-Z0-9])[A-Z0-9]{16}(?![A-Za-z0-9])",
        not_after=ALNUM,
        check=entropy_ok(2.5),
    ),
    rule(
        "github_token",
        r"gh[pousr]_[A-Za-z0-9]{36,251}(?![A-Za-z0-9_])",
        not_after=ALNUM_U,
        check=entropy_ok(3.5),
    ),
    rule(
        "github_token",
        r"github_pat_[A-Za-z0-9_]{60,255}",
        (),
        ("github_pat_",),
        not_after=ALNUM_U,
        check=entropy_ok(3.5),
    ),
    rule(
        "gitlab_token",
        r"gl(?:pat|dt|rt|ptt|cbt|oas)-[A-Za-z0-9_\-]{20,64}",
        not_after=ALNUM_U,
        check=entropy_ok(3.2),
    ),
    rule(
        "anthropic_key",
        r"sk-ant-[A-Za-z0-9_\-]{20,200}",
        (),
        ("sk-ant-",),
        not_after=ALNUM_UH,
        check=entropy_ok(3.2),
    ),
    rule(
        "openai_key",
        r"sk-(?!ant-)(?:(?:proj|svcacct|admin|None)-)?[A-Za-z0-9_\-]{20,250}(?![A-Za-z0-9_\-])",
        not_after=ALNUM_UH,
        check=check_mixed,
    ),
    rule(
        "slack_token",
        r"xox[abposr]-(?:\d+-)*[A-Za-z0-9\-]{10,200}",
        not_after=ALNUM,
        check=entropy_ok(3.0),
    ),
    rule("slack_token", r"xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]{20,}", not_after=ALNUM),
    rule(
        "slack_webhook",
        r"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<v>T[A-Z0-9]+/[A-Z0-9/]+/"
        r"[A-Za-z0-9]{8,})",
        ("v",),
        check=not_placeholder,
    ),
    rule(
        "discord_webhook",
        r"discord(?:app)?\.com/api/webhooks/\d+/(?P<v>[A-Za-z0-9_\-]{30,})",
        ("v",),
        check=not_placeholder,
    ),
    *(
        rule(
            "stripe_key",
            prefix + r"[A-Za-z0-9]{10,250}",
            (),
            (prefix,),
            not_after=ALNUM,
            check=entropy_ok(3.0),
        )
        for prefix in ("sk_live_", "sk_test_", "rk_live_", "rk_test_", "pk_live_", "pk_test_")
    ),
    rule("stripe_key", r"whsec_[A-Za-z0-9]{20,}", (), ("whsec_",), not_after=ALNUM),
    rule("google_api_key", r"AIza[0-9A-Za-z_\-]{35}(?![A-Za-z0-9_\-])", not_after=ALNUM_UH),
    rule("google_oauth_secret", r"GOCSPX-[A-Za-z0-9_\-]{20,40}", not_after=ALNUM_UH),
    rule("google_oauth_token", r"ya29\.[A-Za-z0-9_\-]{20,}", not_after=ALNUM_UH),
    rule("google_oauth_token", r"1//0[A-Za-z0-9_\-]{30,}", not_after=ALNUM_UH | {"/"}),
    rule(
        "azure_storage_key",
        r"(?:accountkey|sharedaccesskey|sharedsecretvalue)[ \t]*=[ \t]*(?P<v>[a-z0-9+/=%]{20,})"
        r"|sharedaccesssignature[ \t]*=[ \t]*(?P<v2>[^;\s'\"]{20,})",
        ("v", "v2"),
        ("accountkey", "sharedaccess", "sharedsecret"),
        lower=True,
        check=not_placeholder,
    ),
    rule("azure_sas", r"sig=(?P<v>[A-Za-z0-9%+/=]{20,})", ("v",), ("sig=",), check=query_param),
    rule(
        "huggingface_token",
        r"hf_[A-Za-z0-9]{30,60}(?![A-Za-z0-9_])",
        not_after=ALNUM_U,
        check=check_mixed,
    ),
    rule("huggingface_token", r"api_org_[A-Za-z0-9]{30,60}", not_after=ALNUM_U, check=check_mixed),
    rule("pypi_token", r"pypi-AgE[A-Za-z0-9_\-]{50,}"),
    rule("npm_token", r"npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])", not_after=ALNUM_U, check=check_mixed),
    rule("sendgrid_key", r"SG\.[A-Za-z0-9_\-]{20,24}\.[A-Za-z0-9_\-]{39,50}"),
    rule("databricks_token", r"dapi[0-9a-f]{32}(?:-\d)?(?![A-Za-z0-9])", not_after=ALNUM),
    rule(
        "replicate_token",
        r"r8_[A-Za-z0-9]{37}(?![A-Za-z0-9])",
        not_after=ALNUM_U,
        check=check_mixed,
    ),
    rule("groq_key", r"gsk_[A-Za-z0-9]{48,60}", not_after=ALNUM_U, check=check_mixed),
    rule("xai_key", r"xai-[A-Za-z0-9]{60,90}", not_after=ALNUM_UH, check=check_mixed),
    rule("docker_token", r"dckr_pat_[A-Za-z0-9_\-]{20,}", not_after=ALNUM_U),
    # Twilio account and API-key SIDs (detect-secrets reports them as keys too)
    rule(
        "twilio_key",
        r"(?:AC|SK)[0-9a-f]{32}(?![A-Za-z0-9])",
        not_after=ALNUM,
        check=entropy_ok(3.0),
    ),
    rule("langsmith_key", r"lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}", not_after=ALNUM_U),
    rule(
        "telegram_bot_token",
        r":(?P<v>AA[A-Za-z0-9_\-]{33})(?![A-Za-z0-9])",
        ("v",),
        (":AA",),
        check=after_bot_id,
    ),
    rule(
        "wandb_key",
        r"(?:wandb[ \t]+login|wandb\.login\([ \t]*key[ \t]*=|wandb_api_key[ \t]*=)[ \t]*[\"']?"
        r"(?:--\S+[ \t]+)*(?P<v>[0-9a-f]{40})(?![0-9a-f])",
        ("v",),
        ("wandb",),
        lower=True,
    ),
    # provider prefixes with a body shorter or longer than the provider's norm: the prefix
    # is distinctive enough once the body is random (digits and letters, no words)
    *(  #  literal starts: found at C speed, rules mostly skipped
        rule(
            "provider_key",
            f"(?P<p>{prefix})(?P<b>[\\w\\-]+(?:\\.[\\w\\-]+)*)",
            (),
            needles,
            not_after=ALNUM_UH,
            check=_prefixed_body,
        )
        for prefix, needles in _PREFIXES
    ),
    # -- JSON Web Tokens ------------------------------------------------------------------
    rule(
        "jwt",
        r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*",
        not_after=ALNUM_UH,
    ),
)

"""The rule set: what a credential looks like, one :class:`Rule` per kind, in priority order.

Coverage follows the credentials Trivy's built-in rules look for (cloud keys, source-forge and package-registry
tokens, chat webhooks, payment keys, SaaS API tokens, private keys, JWTs), written here from the vendors' token
formats, plus what Trivy does not look for: passwords in URLs, generic ``password=``/``token:`` assignments,
credential files (``.npmrc``, ``.pypirc``, ``.netrc``, ``.pgpass``, kubeconfig, docker ``config.json``) and secrets
on command lines (``curl -u``, ``--password``, ``Authorization:`` headers).

Rules run in list order and a later rule never reports a span an earlier one reported: specific token formats come
first, then credential files, then key/value patterns, and the generic assignment rules last.

Each rule names its prefilter keywords (lower-case literals): the rule's regex runs over a text only when one of
them occurs in it. ``lowercase`` rules match against the lower-cased text (same offsets), which lets one
case-sensitive regex stand for a case-insensitive one at several times the speed; the value is then cut from the
original text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from imagescan.findings import Severity
from imagescan.secrets import values

CRITICAL, HIGH, MEDIUM, LOW, INFO = (
    Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFORMATIONAL,
)


@dataclass(frozen=True)
class Candidate:
    """One regex match of a rule, as its value check sees it."""

    value: bytes
    """The secret, cut from the original text."""
    match: re.Match[bytes]
    """The match over the text the rule ran on (lower-cased for ``lowercase`` rules)."""
    data: bytes
    """The original text."""


Check = Callable[[Candidate], bool]


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    severity: Severity
    keywords: tuple[bytes, ...]
    """Lower-case literals; empty only for path-scoped rules (they run on every file of their path)."""
    pattern: re.Pattern[bytes]
    lowercase: bool = False
    group: str = "secret"
    boundary: bool = False
    """The secret must not be glued to letters or digits on either side (``xghp_...`` is not a token)."""
    placeholders: bool = False
    """Apply the placeholder allow-list (``changeme``, ``${VAR}``, ``<password>``...) to the value."""
    check: Check | None = None
    path: re.Pattern[str] | None = None
    """Only files whose image path matches (credential files); never config strings."""
    reveal: int = 4
    """At most this many leading characters of the secret may show in the masked preview."""
    normalize: Callable[[bytes], bytes] | None = None
    """What is fingerprinted, when it is not the matched value itself (PEM bodies without line breaks)."""
    context_only: bool = False
    """The rule recognises a secret by its context (a key name, a service name, a URL or command line) rather than
    by its shape. Such rules do not run in third-party package trees and sample files (``shape_only`` scans), where
    assignments hold samples, mocks and documentation values."""


def _rx(pattern: str, flags: int = 0) -> re.Pattern[bytes]:
    return re.compile(pattern.encode(), flags)


def token(rule_id: str, title: str, severity: Severity, pattern: str, *keywords: str, reveal: int = -1,
          check: Check | None = None) -> Rule:
    """A token with a distinctive literal prefix, matched case-sensitively; the prefix may show in previews."""
    kws = tuple(k.lower().encode() for k in keywords)
    return Rule(rule_id, title, severity, kws, _rx(f"(?P<secret>{pattern})"), boundary=True,
                reveal=len(kws[0]) if reveal < 0 else reveal, check=check)


_ASSIGN = r"[a-z0-9_ .\-,]{0,25}+(?:=|>|:=|\|\|:|<=|=>|:)[^'\"\n]{0,5}+['\"]"


def keyed(rule_id: str, title: str, severity: Severity, service: str, value: str) -> Rule:
    """A value without a distinctive shape, recognised by the service's name shortly before it
    (``twilio_auth_token = "..."``). ``value`` is written for lower-cased text."""
    return Rule(rule_id, title, severity, (service.encode(),),
                _rx(f"{re.escape(service)}{_ASSIGN}(?P<secret>{value})['\"]"), lowercase=True, placeholders=True,
                reveal=2, check=lambda c: not values.degenerate(c.value), context_only=True)


UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


# ---------------------------------------------------------------------------------------------------- value checks
def _aws_secret(c: Candidate) -> bool:
    v = c.value
    return any(65 <= ch <= 90 for ch in v) and any(97 <= ch <= 122 for ch in v) and values.entropy(v) >= 4.0


def _plausible(c: Candidate) -> bool:
    return values.plausible_secret(c.value)


def _basic_auth(c: Candidate) -> bool:
    return values.basic_auth_pair(c.value)


def _jwt(c: Candidate) -> bool:
    return values.jwt_header(c.value)


def _pem_plain(c: Candidate) -> bool:
    return values.pem_plausible(c.value) and not values.pem_encrypted(c.match.group("kind") or b"", c.value)


def _pem_encrypted(c: Candidate) -> bool:
    return values.pem_plausible(c.value) and values.pem_encrypted(c.match.group("kind") or b"", c.value)


def _gcp_key(c: Candidate) -> bool:
    return values.pem_plausible(_pem_inner(c.value))


_PEM_INNER = re.compile(rb"-----BEGIN[A-Z ]*-----(.*?)-----END", re.DOTALL)


def _pem_inner(value: bytes) -> bytes:
    found = _PEM_INNER.search(value)
    return found.group(1) if found else value


def _gcp_normalize(value: bytes) -> bytes:
    return values.pem_body(_pem_inner(value))


_SCHEME = re.compile(rb"[A-Za-z][A-Za-z0-9+.\-]{1,30}\Z")
_EXAMPLE_HOSTS = re.compile(rb"(?:^|\.)(?:example(?:\.(?:com|org|net))?|test|invalid|host|hostname|domain|server)$")


def _url_password(c: Candidate) -> bool:
    m = c.match
    start = m.start()
    if not _SCHEME.search(c.data[max(0, start - 31):start]):
        return False
    host = (m.group("host") or b"").lower()
    password = c.value
    if _EXAMPLE_HOSTS.search(host) or values.is_placeholder(password):
        return False
    return not (password.isdigit() and len(password) <= 5)  # host:port@... rather than user:password@


_CURL = re.compile(rb"(?:^|[\s;&|(`/])(?:curl|wget)\s", re.MULTILINE)


def _curl_credentials(c: Candidate) -> bool:
    """``-u user:password`` of a curl or wget command earlier on the same line (at most 300 characters back)."""
    start = c.match.start()
    if start == 0 or c.data[start - 1] not in b" \t":
        return False
    line_start = c.data.rfind(b"\n", 0, start) + 1
    return bool(_CURL.search(c.data, max(line_start, start - 300), start)) and values.plausible_secret(c.value)


_KEY_CHARS = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
_UNQUOTED_BEFORE = frozenset(b" \t\r\n;&|(,{?\"'[")


def _generic(c: Candidate) -> bool:
    """``NAME = value``: a secret-naming key, a plausible value; unquoted values only where a statement starts
    (``export TOKEN=...``, ``ARG NPM_TOKEN=...``, ``?token=...``, ``password: ...`` at line start)."""
    m, data = c.match, c.data
    key_start = m.start()
    while key_start > 0 and data[key_start - 1] in _KEY_CHARS:
        key_start -= 1
    name = data[key_start:m.end("tail")].decode("ascii", "replace").lower()
    if not values.secret_key_name(name) or data[max(0, key_start - 2):key_start] == b"::":
        return False  # not a secret's name, or a qualified type name (``AWS::SecretsManager::Secret``)
    if m.group("q") is None:
        if key_start > 0 and data[key_start - 1] not in _UNQUOTED_BEFORE:
            return False
        after = data[m.end():m.end() + 1]
        if m.group("op") == b":" and after in (b",", b")", b"="):
            return False  # ``private_key: KeyType,``: a type annotation in a signature, not YAML
    return values.plausible_secret(c.value)


# ------------------------------------------------------------------------------------------------------ the rules
_GENERIC_VALUE = (
    r"(?P<tail>[a-z0-9_.\-]{0,30}+)[\"']?[ \t]*+(?P<op>:=|=>|=|:)[ \t]*+(?P<q>[\"'`])?"
    r"(?P<secret>[^\s\"'`\\,;<>(){}\[\]]{6,200}+)(?(q)(?P=q)|(?=[\s,;&|)]|$))"
)


def generic(rule_id: str, title: str, names: str, *keywords: str) -> Rule:
    return Rule(rule_id, title, MEDIUM, tuple(k.encode() for k in keywords), _rx(f"(?:{names}){_GENERIC_VALUE}"),
                lowercase=True, placeholders=True, reveal=2, check=_generic, context_only=True)


def _path(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


_PEM = (
    r"-----BEGIN (?P<kind>(?:[A-Z0-9]+ ){0,3})PRIVATE KEY(?: BLOCK)?-----"
    r"(?P<secret>[A-Za-z0-9+/=\s:,.()_'\"\\-]{30,65536}?)-----END (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----"
)

RULES: tuple[Rule, ...] = (
    # Cloud providers ------------------------------------------------------------------------------------------
    token("aws-access-key-id", "AWS access key ID", MEDIUM,
          r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA|A3T[A-Z0-9])[A-Z0-9]{16}",
          "AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AIPA", "ANPA", "ANVA", "APKA", "AROA", "ASCA", "A3T"),
    Rule("aws-secret-access-key", "AWS secret access key", CRITICAL,
         (b"secret", b"sec_key", b"seckey", b"sec-key", b"aws_sec", b"aws-sec", b"awssec"),
         _rx(r"(?:aws[_\-]?)?sec(?:ret)?[_\-]?(?:access[_\-]?)?key[\"']?\s*(?::=|=>|=|:)\s*"
             r"[\"']?(?P<secret>[a-z0-9/+=]{40})(?![a-z0-9/+=])"),
         lowercase=True, check=_aws_secret),
    Rule("aws-session-token", "AWS session token", HIGH, (b"session_token", b"sessiontoken"),
         _rx(r"session_?token[\"']?\s*(?:=|:)\s*[\"']?(?P<secret>[a-z0-9/+=]{100,2048})"), lowercase=True,
         check=lambda c: values.entropy(c.value) >= 4.0),
    Rule("gcp-service-account-key", "Google Cloud service-account private key", CRITICAL, (b'"private_key"',),
         _rx(r"\"private_key\"\s*:\s*\"(?P<secret>-----BEGIN (?:RSA )?PRIVATE KEY-----[A-Za-z0-9+/=\\\s]{64,16384}?"
             r"-----END (?:RSA )?PRIVATE KEY-----(?:\\n)?)\""),
         check=_gcp_key, reveal=0, normalize=_gcp_normalize),
    token("google-api-key", "Google API key", HIGH, r"AIza[0-9A-Za-z_\-]{35}", "AIza"),
    token("google-oauth-client-secret", "Google OAuth client secret", HIGH, r"GOCSPX-[0-9A-Za-z_\-]{28}", "GOCSPX-"),
    Rule("azure-storage-account-key", "Azure storage account key", CRITICAL, (b"accountkey",),
         _rx(r"accountkey\s*=\s*(?P<secret>[a-z0-9+/]{86}==)"), lowercase=True),
    Rule("azure-sas-token", "Azure shared access signature", MEDIUM, (b"sig=",),
         _rx(r"sv=\d{4}-\d{2}-\d{2}(?:&[A-Za-z]{1,8}=[^&\s'\"<>]{0,200}){0,15}&sig=(?P<secret>[A-Za-z0-9%+/=]{40,120})")),
    Rule("azure-entra-client-secret", "Azure Entra ID client secret", HIGH, (b"8q~",),
         _rx(r"(?<![A-Za-z0-9_~.\-])(?P<secret>[A-Za-z0-9_~.\-]{3}8Q~[A-Za-z0-9_~.\-]{34})(?![A-Za-z0-9_~.\-])"),
         reveal=0),
    Rule("azure-identifiable-key", "Azure API key (container registry, AI services)", HIGH, (b"jqqj99",),
         _rx(r"(?<![A-Za-z0-9+/])(?P<secret>[A-Za-z0-9+/]{52}JQQJ99[A-Za-z0-9+/]{26})(?![A-Za-z0-9+/])"), reveal=0),
    Rule("azure-devops-pat", "Azure DevOps personal access token", HIGH,
         (b"devops", b"azdo", b"ado_pat", b"ado_token", b"ado-pat", b"ado-token", b"adopat", b"adotoken"),
         _rx(r"(?:azure[_\-]?devops|azdo|ado)[_\-]?(?:pat|token|personal[_\-]?access[_\-]?token)[\"']?\s*[:=]\s*"
             r"[\"']?(?P<secret>[a-z2-7]{52})(?![a-z0-9])"), lowercase=True, reveal=0),
    Rule("azure-container-registry-password", "Azure container registry password", HIGH, (b"azurecr.io",),
         _rx(r"azurecr\.io[^\n]{0,100}(?:password|pwd)[\"']?\s*[:=]\s*[\"']?(?P<secret>[a-z0-9+/]{32,52})"),
         lowercase=True, reveal=0),
    Rule("azure-app-config-connection-string", "Azure App Configuration connection string", HIGH, (b"azconfig.io",),
         _rx(r"endpoint\s*=\s*https://[a-z0-9\-]+\.azconfig\.io\s*;\s*id\s*=\s*[^;\s]+\s*;\s*secret\s*=\s*"
             r"(?P<secret>[a-z0-9+/=]{32,88})"), lowercase=True, reveal=0),
    token("alibaba-access-key-id", "Alibaba Cloud AccessKey ID", HIGH, r"LTAI[A-Za-z0-9]{20}", "LTAI"),
    keyed("alibaba-secret-key", "Alibaba Cloud AccessKey secret", HIGH, "alibaba", r"[a-z0-9]{30}"),
    # Source forges, CI, package registries ---------------------------------------------------------------------
    token("github-pat", "GitHub personal access token", CRITICAL, r"ghp_[0-9A-Za-z]{36}", "ghp_"),
    token("github-oauth", "GitHub OAuth access token", CRITICAL, r"gho_[0-9A-Za-z]{36}", "gho_"),
    token("github-app-token", "GitHub App token", CRITICAL,
          r"(?:ghu|ghs)_[0-9A-Za-z]{36}|ghs_[0-9]{1,12}_[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}",
          "ghu_", "ghs_"),
    token("github-refresh-token", "GitHub refresh token", CRITICAL, r"ghr_[0-9A-Za-z]{36,76}", "ghr_"),
    token("github-fine-grained-pat", "GitHub fine-grained personal access token", CRITICAL,
          r"github_pat_[0-9A-Za-z]{22}_[0-9A-Za-z]{59}", "github_pat_"),
    token("gitlab-pat", "GitLab personal access token", CRITICAL, r"glpat-[0-9A-Za-z_\-]{20,64}", "glpat-"),
    token("gitlab-runner-token", "GitLab runner authentication token", HIGH, r"glrt-[0-9A-Za-z_\-]{20,64}", "glrt-"),
    token("gitlab-deploy-token", "GitLab deploy token", HIGH, r"gldt-[0-9A-Za-z_\-]{20,64}", "gldt-"),
    token("gitlab-pipeline-trigger-token", "GitLab pipeline trigger token", HIGH, r"glptt-[0-9a-f]{40}", "glptt-"),
    token("npm-access-token", "npm access token", CRITICAL, r"npm_[A-Za-z0-9]{36}", "npm_"),
    token("pypi-upload-token", "PyPI upload token", CRITICAL,
          r"pypi-(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_\-]{50,1000}",
          "pypi-AgEIcHlwaS5vcmc", "pypi-AgENdGVzdC5weXBpLm9yZw", reveal=5),
    token("rubygems-api-token", "RubyGems API token", HIGH, r"rubygems_[a-f0-9]{48}", "rubygems_"),
    token("clojars-api-token", "Clojars API token", MEDIUM, r"CLOJARS_[A-Za-z0-9]{60}", "CLOJARS_"),
    token("private-packagist-token", "Private Packagist token", MEDIUM, r"packagist_[ou][ru]t_[a-fA-F0-9]{68}",
          "packagist_uut_", "packagist_ort_", "packagist_out_"),
    token("hashicorp-tf-api-token", "HashiCorp Terraform API token", MEDIUM,
          r"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_\-=]{60,70}", "atlasv1.", reveal=0),
    token("pulumi-api-token", "Pulumi access token", HIGH, r"pul-[a-f0-9]{40}", "pul-"),
    token("doppler-api-token", "Doppler API token", MEDIUM, r"dp\.pt\.[A-Za-z0-9]{43}", "dp.pt."),
    token("databricks-api-token", "Databricks API token", MEDIUM, r"dapi[a-h0-9]{32}(?:-\d)?", "dapi"),
    token("postman-api-token", "Postman API key", MEDIUM, r"PMAK-[a-fA-F0-9]{24}-[a-fA-F0-9]{34}", "PMAK-"),
    token("grafana-api-token", "Grafana API key", MEDIUM, r"eyJrIjoi[A-Za-z0-9_\-=]{72,92}", "eyJrIjoi"),
    token("grafana-cloud-token", "Grafana Cloud token", MEDIUM, r"glc_[A-Za-z0-9+/]{32,400}={0,2}", "glc_"),
    token("grafana-service-account-token", "Grafana service-account token", MEDIUM,
          r"glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}", "glsa_"),
    token("dynatrace-api-token", "Dynatrace API token", MEDIUM, r"dt0c01\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{64}",
          "dt0c01."),
    token("new-relic-user-api-key", "New Relic user API key", MEDIUM, r"NRAK-[A-Z0-9]{27}", "NRAK-"),
    token("new-relic-browser-api-token", "New Relic browser API token", MEDIUM, r"NRJS-[a-f0-9]{19}", "NRJS-"),
    keyed("new-relic-user-api-id", "New Relic user API ID", MEDIUM, "newrelic", r"[a-z0-9]{64}"),
    token("planetscale-password", "PlanetScale password", MEDIUM, r"pscale_pw_[A-Za-z0-9_\-.]{43}", "pscale_pw_"),
    token("planetscale-api-token", "PlanetScale API token", MEDIUM, r"pscale_tkn_[A-Za-z0-9_\-.]{43}",
          "pscale_tkn_"),
    token("planetscale-oauth-token", "PlanetScale OAuth token", MEDIUM, r"pscale_oauth_[A-Za-z0-9_\-.]{32,64}",
          "pscale_oauth_"),
    token("frameio-api-token", "Frame.io API token", LOW, r"fio-u-[A-Za-z0-9_\-=]{64}", "fio-u-"),
    token("linear-api-token", "Linear API key", MEDIUM, r"lin_api_[A-Za-z0-9]{40}", "lin_api_"),
    keyed("linear-client-secret", "Linear client secret", MEDIUM, "linear", r"[a-f0-9]{32}"),
    # Chat, mail, messaging --------------------------------------------------------------------------------------
    token("slack-token", "Slack token", HIGH, r"xox[abposr]-[0-9A-Za-z]{10,48}(?:-[0-9A-Za-z]{1,64}){0,6}",
          "xoxb-", "xoxa-", "xoxp-", "xoxo-", "xoxs-", "xoxr-", reveal=5),
    token("slack-app-token", "Slack app-level token", HIGH, r"xapp-\d-[A-Z0-9]{9,12}-\d{10,16}-[a-z0-9]{64}",
          "xapp-"),
    token("slack-webhook", "Slack incoming webhook URL", MEDIUM,
          r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_\-]{30,120}",
          "hooks.slack.com", reveal=33),
    token("twilio-api-key", "Twilio API key", MEDIUM, r"SK[0-9a-fA-F]{32}", "sk", reveal=2),
    keyed("twilio-auth-token", "Twilio auth token", MEDIUM, "twilio", r"[a-f0-9]{32}"),
    token("sendgrid-api-token", "SendGrid API key", HIGH, r"SG\.[0-9A-Za-z_\-]{22}\.[0-9A-Za-z_\-]{43}", "SG."),
    token("sendinblue-api-token", "Brevo (Sendinblue) API key", LOW, r"xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}",
          "xkeysib-"),
    keyed("mailchimp-api-key", "Mailchimp API key", MEDIUM, "mailchimp", r"[a-f0-9]{32}-us\d{1,2}"),
    keyed("mailgun-token", "Mailgun API key", MEDIUM, "mailgun", r"(?:pub)?key-[a-f0-9]{32}"),
    keyed("mailgun-signing-key", "Mailgun webhook signing key", MEDIUM, "mailgun",
          r"[a-h0-9]{32}-[a-h0-9]{8}-[a-h0-9]{8}"),
    keyed("messagebird-api-token", "MessageBird API key", MEDIUM, "messagebird", r"[a-z0-9]{25}"),
    keyed("messagebird-client-id", "MessageBird client ID", MEDIUM, "messagebird", UUID),
    keyed("discord-api-token", "Discord API key", MEDIUM, "discord", r"[a-h0-9]{64}"),
    keyed("discord-client-id", "Discord client ID", MEDIUM, "discord", r"[0-9]{18}"),
    keyed("discord-client-secret", "Discord client secret", MEDIUM, "discord", r"[a-z0-9=_\-]{32}"),
    keyed("intercom-api-token", "Intercom API token", LOW, "intercom", r"[a-z0-9=_]{60}"),
    keyed("intercom-client-secret", "Intercom client secret", LOW, "intercom", UUID),
    # Payments, commerce ----------------------------------------------------------------------------------------
    token("stripe-secret-key", "Stripe live secret key", CRITICAL, r"(?:sk|rk)_live_[0-9A-Za-z]{20,247}",
          "sk_live_", "rk_live_"),
    token("stripe-test-secret-key", "Stripe test-mode secret key", LOW, r"(?:sk|rk)_test_[0-9A-Za-z]{20,247}",
          "sk_test_", "rk_test_"),
    token("stripe-publishable-key", "Stripe publishable key (public by design)", INFO,
          r"pk_(?:live|test)_[0-9A-Za-z]{20,247}", "pk_live_", "pk_test_"),
    token("stripe-webhook-secret", "Stripe webhook signing secret", MEDIUM, r"whsec_[A-Za-z0-9]{32,64}", "whsec_"),
    token("shopify-token", "Shopify access token", HIGH, r"shp(?:ss|at|ca|pa)_[a-fA-F0-9]{32}",
          "shpss_", "shpat_", "shpca_", "shppa_", reveal=6),
    token("flutterwave-key", "Flutterwave key", MEDIUM, r"FLW(?:PUB|SEC)K_TEST-[a-hA-H0-9]{32}-X",
          "FLWSECK_TEST-", "FLWPUBK_TEST-", reveal=13),
    token("flutterwave-enc-key", "Flutterwave encryption key", MEDIUM, r"FLWSECK_TEST[a-h0-9]{12}", "FLWSECK_TEST"),
    token("duffel-api-token", "Duffel API token", LOW, r"duffel_(?:test|live)_[A-Za-z0-9_\-=]{43}",
          "duffel_test_", "duffel_live_", reveal=12),
    token("easypost-api-token", "EasyPost API key", LOW, r"EZ[AT]K[A-Za-z0-9]{54}", "EZAK", "EZAT"),
    token("shippo-api-token", "Shippo API token", LOW, r"shippo_(?:live|test)_[a-f0-9]{40}",
          "shippo_live_", "shippo_test_", reveal=12),
    Rule("gocardless-api-token", "GoCardless API token", MEDIUM, (b"live_",),
         _rx(r"['\"](?P<secret>live_[A-Za-z0-9_\-=]{40})['\"]"), reveal=5),
    keyed("finicity-client-secret", "Finicity client secret", MEDIUM, "finicity", r"[a-z0-9]{20}"),
    keyed("finicity-api-token", "Finicity API token", MEDIUM, "finicity", r"[a-f0-9]{32}"),
    keyed("lob-api-key", "Lob API key", LOW, "lob", r"(?:live|test)_[a-f0-9]{35}"),
    keyed("lob-pub-api-key", "Lob publishable API key", LOW, "lob", r"(?:test|live)_pub_[a-f0-9]{31}"),
    # AI and data platforms -------------------------------------------------------------------------------------
    token("openai-api-key", "OpenAI API key", HIGH,
          r"sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{20,160}|service-[A-Za-z0-9\-]{1,60}-[A-Za-z0-9]{20}"
          r"|(?:None-)?[A-Za-z0-9]{20,42})T3BlbkFJ[A-Za-z0-9_\-]{20,160}", "T3BlbkFJ", reveal=3),
    token("openai-realtime-client-secret", "OpenAI Realtime ephemeral client secret", LOW, r"ek_[a-f0-9]{32}",
          "ek_"),
    token("anthropic-api-key", "Anthropic API key", HIGH, r"sk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_\-]{80,120}",
          "sk-ant-", reveal=7),
    token("hugging-face-access-token", "Hugging Face access token", HIGH, r"hf_[A-Za-z0-9]{34,40}", "hf_"),
    # Other SaaS ------------------------------------------------------------------------------------------------
    token("age-secret-key", "age secret key", MEDIUM, r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}",
          "AGE-SECRET-KEY-1"),
    token("adobe-client-secret", "Adobe client secret", LOW, r"p8e-[A-Za-z0-9]{32}", "p8e-"),
    keyed("adobe-client-id", "Adobe client ID", LOW, "adobe", r"[a-f0-9]{32}"),
    keyed("asana-client-id", "Asana client ID", MEDIUM, "asana", r"[0-9]{16}"),
    keyed("asana-client-secret", "Asana client secret", MEDIUM, "asana", r"[a-z0-9]{32}"),
    keyed("atlassian-api-token", "Atlassian API token", HIGH, "atlassian", r"[a-z0-9]{24}"),
    keyed("bitbucket-client-id", "Bitbucket client ID", HIGH, "bitbucket", r"[a-z0-9]{32}"),
    keyed("bitbucket-client-secret", "Bitbucket client secret", HIGH, "bitbucket", r"[a-z0-9_\-]{64}"),
    keyed("beamer-api-token", "Beamer API token", LOW, "beamer", r"b_[a-z0-9=_\-]{44}"),
    keyed("contentful-delivery-api-token", "Contentful delivery API token", LOW, "contentful", r"[a-z0-9\-=_]{43}"),
    keyed("dropbox-api-secret", "Dropbox API secret", HIGH, "dropbox", r"[a-z0-9]{15}"),
    keyed("dropbox-short-lived-api-token", "Dropbox short-lived API token", HIGH, "dropbox", r"sl\.[a-z0-9\-=_]{135}"),
    keyed("dropbox-long-lived-api-token", "Dropbox long-lived API token", HIGH, "dropbox",
          r"[a-z0-9]{11}aaaaaaaaaa[a-z0-9\-_=]{43}"),
    keyed("facebook-token", "Facebook secret", LOW, "facebook", r"[a-f0-9]{32}"),
    keyed("fastly-api-token", "Fastly API token", MEDIUM, "fastly", r"[a-z0-9\-=_]{32}"),
    keyed("heroku-api-key", "Heroku API key", HIGH, "heroku", UUID),
    keyed("hubspot-api-token", "HubSpot API token", LOW, "hubspot", UUID),
    keyed("ionic-api-token", "Ionic API token", LOW, "ionic", r"ion_[a-z0-9]{42}"),
    keyed("linkedin-client-secret", "LinkedIn client secret", LOW, "linkedin", r"[a-z]{16}"),
    keyed("linkedin-client-id", "LinkedIn client ID", LOW, "linkedin", r"[a-z0-9]{14}"),
    token("mapbox-api-token", "Mapbox access token", MEDIUM, r"(?:pk|sk)\.eyJ[A-Za-z0-9]{20,200}\.[A-Za-z0-9_\-]{22}",
          "pk.eyj", "sk.eyj", reveal=3),
    keyed("twitch-api-token", "Twitch API token", LOW, "twitch", r"[a-z0-9]{30}"),
    keyed("twitter-token", "Twitter secret", LOW, "twitter", r"[a-f0-9]{35,44}"),
    token("typeform-api-token", "Typeform API token", LOW, r"tfp_[A-Za-z0-9_\-.=]{59}", "tfp_"),
    token("symfony-default-secret", "Symfony default secret (publicly known)", LOW,
          r"ThisTokenIsNotSoSecretChangeIt|ThisEzPlatformTokenIsNotSoSecret_PleaseChangeIt", "TokenIsNotSoSecret",
          reveal=0),
    # Credential files -----------------------------------------------------------------------------------------
    Rule("pypirc-password", "Password in .pypirc", HIGH, (b"password",),
         _rx(r"^[ \t]*password[ \t]*[:=][ \t]*(?P<secret>\S[^\r\n]*?)[ \t]*\r?$", re.MULTILINE), lowercase=True,
         placeholders=True, path=_path(r"(?:^|/)\.pypirc$"), reveal=2),
    Rule("netrc-password", "Password in .netrc", HIGH, (b"password",),
         _rx(r"(?:^|\s)password\s+(?P<secret>\S+)"), lowercase=True, placeholders=True,
         path=_path(r"(?:^|/)[._]netrc$"), reveal=2),
    Rule("pgpass-password", "Password in .pgpass", HIGH, (),
         _rx(r"^(?:[^:\\\n]*+(?:\\.[^:\\\n]*+)*+:){4}(?P<secret>[^\r\n]+?)\r?$", re.MULTILINE), placeholders=True,
         path=_path(r"(?:^|/)\.pgpass$"), reveal=2),
    Rule("kubeconfig-token", "Bearer token in kubeconfig", HIGH, (b"token",),
         _rx(r"^[ \t]*(?:-[ \t]+)?token:[ \t]*[\"']?(?P<secret>[^\s\"']{8,})", re.MULTILINE), placeholders=True,
         path=_path(r"(?:^|/)(?:\.kube/config|[^/]*kubeconfig[^/]*)$")),
    Rule("kubeconfig-client-key", "Client private key in kubeconfig", HIGH, (b"client-key-data",),
         _rx(r"client-key-data:[ \t]*[\"']?(?P<secret>[A-Za-z0-9+/=]{40,})"), reveal=0),
    Rule("npmrc-auth-token", "Registry credential in .npmrc", HIGH, (b"_auth", b"_password"),
         _rx(r"(?:^|[\s:])(?:_authtoken|_auth|_password)[ \t]*=[ \t]*[\"']?(?P<secret>[^\s\"'$][^\s\"']{5,})"),
         lowercase=True, placeholders=True),
    Rule("docker-config-auth", "Registry credential in docker config.json", HIGH, (b'"auth"',),
         _rx(r"\"auth\"\s*:\s*\"(?P<secret>[A-Za-z0-9+/]{6,}={0,2})\""), check=_basic_auth, reveal=0),
    Rule("docker-config-identity-token", "Registry identity token in docker config.json", HIGH, (b"identitytoken",),
         _rx(r"\"identitytoken\"\s*:\s*\"(?P<secret>[^\"\s]{16,})\""), lowercase=True, placeholders=True),
    Rule("dockerconfig-secret", "Docker registry credential in a Kubernetes secret", HIGH, (b"dockerc",),
         _rx(r"\.(?:dockerconfigjson|dockercfg)[\"']?:\s*\|?\s*[\"']?(?P<secret>(?:ey|ew)[a-z0-9/+=]{20,})"),
         lowercase=True),
    Rule("maven-settings-password", "Password in Maven settings", MEDIUM, (b"<password>",),
         _rx(r"<password>\s*(?P<secret>[^<{\s$][^<]*?)\s*</password>"), lowercase=True, placeholders=True, reveal=2),
    Rule("maven-settings-passphrase", "Key passphrase in Maven settings", MEDIUM, (b"<passphrase>",),
         _rx(r"<passphrase>\s*(?P<secret>[^<{\s$][^<]*?)\s*</passphrase>"), lowercase=True, placeholders=True,
         reveal=2),
    Rule("maven-settings-security-master", "Master password in Maven settings-security", MEDIUM,
         (b"<master>",), _rx(r"<master>\s*(?P<secret>[^<\s]+)\s*</master>"), lowercase=True, reveal=1),
    # Private keys, tokens with structure -----------------------------------------------------------------------
    Rule("private-key", "Private key", HIGH, (b"private key",), _rx(_PEM), check=_pem_plain,
         normalize=values.pem_body),
    Rule("encrypted-private-key", "Encrypted private key (passphrase protected)", MEDIUM, (b"private key",),
         _rx(_PEM), check=_pem_encrypted, normalize=values.pem_body),
    Rule("http-basic-auth", "HTTP Basic credentials in an Authorization header", HIGH, (b"authorization",),
         _rx(r"authorization[\"']?\s*[:=]\s*[\"']?basic\s+(?P<secret>[a-z0-9+/]{8,}={0,2})"), lowercase=True,
         check=_basic_auth, reveal=0),
    Rule("jwt-token", "JSON Web Token", MEDIUM, (b"eyj",),
         _rx(r"(?P<secret>eyJ[A-Za-z0-9_\-]{8,}={0,2}\.eyJ[A-Za-z0-9_\-]{8,}={0,2}\.[A-Za-z0-9_\-+/]*={0,2})"),
         boundary=True, check=_jwt),
    Rule("http-bearer-token", "Bearer token in an Authorization header", MEDIUM, (b"authorization",),
         _rx(r"authorization[\"']?\s*[:=]\s*[\"']?bearer\s+(?P<secret>[a-z0-9._~+/\-]{20,}={0,2})"), lowercase=True,
         placeholders=True, check=_plausible, reveal=2, context_only=True),
    # Command lines and URLs ------------------------------------------------------------------------------------
    Rule("url-password", "Password in a URL", HIGH, (b"://",),
         _rx(r"://(?P<user>[^\s:@/'\"<>`]{0,64}):(?P<secret>[^\s@/'\"<>`]{1,128})@"
             r"(?P<host>[A-Za-z0-9_.\-]+|\[[0-9A-Fa-f:.]+\])"),
         check=_url_password, reveal=2, context_only=True),
    Rule("cli-basic-auth", "Credentials on a curl/wget command line", HIGH, (b"curl", b"wget"),
         _rx(r"(?:-u|--user|--proxy-user)(?:[ \t]++|=)[\"']?(?P<user>[^\s:\"'$]*+):(?P<secret>[^\s\"']{2,}+)"),
         placeholders=True, check=_curl_credentials, reveal=2, context_only=True),
    Rule("cli-password-option", "Password on a command line", HIGH, (b"--pass", b"--http-pass", b"--ftp-pass"),
         _rx(r"--(?:http-|ftp-|proxy-)?pass(?:word)?(?:=|[ \t]+)[\"']?(?P<secret>[^\s\"'`;&|]{4,})"),
         placeholders=True, check=_plausible, reveal=2, context_only=True),
    # Generic assignments: last, so any specific rule above wins a span ------------------------------------------
    generic("generic-password", "Password in plain text", r"pass(?:word|wd|phrase)?|pwd", "pass", "pwd"),
    generic("generic-secret", "Secret in plain text", r"secret", "secret"),
    generic("generic-token", "Token in plain text", r"token", "token"),
    generic("generic-api-key", "API key or credential in plain text",
            r"api[_.\-]?key|access[_.\-]?key|auth[_.\-]?key|private[_.\-]?key|credentials?",
            "api_key", "api-key", "api.key", "apikey", "access_key", "access-key", "access.key", "accesskey",
            "auth_key", "auth-key", "auth.key", "authkey", "private_key", "private-key", "private.key", "privatekey",
            "credential"),
)

RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}
if len(RULES_BY_ID) != len(RULES):  # pragma: no cover - a duplicated ID is a programming error
    raise RuntimeError("duplicate secret rule IDs")

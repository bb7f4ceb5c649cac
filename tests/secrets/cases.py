"""One true positive per rule, and near misses, built from fakes at test time.

``POSITIVES[rule_id](rng)`` gives ``(text, secret, path)``: ``text`` holds ``secret`` once, and the rule must
report exactly that span. ``NEAR_MISSES[rule_id]`` gives texts the rule must not report (wrong length, glued to
other characters, placeholders, wrong file).
"""

from __future__ import annotations

import base64
import json
import random
import string
from collections.abc import Callable

from tests.secrets.fakes import (
    B32,
    B62,
    B64,
    aws_secret_key,
    b62,
    basic_auth,
    encrypted_pem_key,
    hexs,
    jwt,
    openssh_key,
    password,
    pem_key,
    pick,
    uuid,
)

Positive = tuple[str, str, str | None]
LOWER = string.ascii_lowercase + string.digits
UPPER = string.ascii_uppercase + string.digits
AH = "abcdefgh0123456789"
BECH32 = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"


def _keyed(service: str, value: str) -> Positive:
    return f'{service}_secret_value = "{value}"\n', value, None


def _token(text: str, secret: str) -> Positive:
    return text.replace("{}", secret), secret, None


def _gcp(rng: random.Random) -> Positive:
    key = pem_key(rng, "")
    doc = json.dumps({"type": "service_account", "project_id": "p", "private_key_id": hexs(rng, 40),
                      "private_key": key, "client_email": "svc@p.iam.gserviceaccount.com"}, indent=2)
    return doc, json.dumps(key)[1:-1], "app/credentials.json"


def _slack_webhook(rng: random.Random) -> Positive:
    url = f"https://hooks.slack.com/services/T{pick(rng, UPPER, 8)}/B{pick(rng, UPPER, 10)}/{b62(rng, 24)}"
    return _token("SLACK_WEBHOOK_URL={}\n", url)


POSITIVES: dict[str, Callable[[random.Random], Positive]] = {
    "aws-access-key-id": lambda r: _token("aws_access_key_id = {}\n", "AKIA" + pick(r, B32, 16)),
    "aws-secret-access-key": lambda r: _token("aws_secret_access_key = {}\n", aws_secret_key(r)),
    "aws-session-token": lambda r: _token("aws_session_token = {}\n", pick(r, B64, 200)),
    "gcp-service-account-key": _gcp,
    "google-api-key": lambda r: _token("const key = '{}';\n", "AIza" + pick(r, B62 + "_-", 35)),
    "google-oauth-client-secret": lambda r: _token('{"client_secret": "{}"}', "GOCSPX-" + pick(r, B62 + "_-", 28)),
    "azure-storage-account-key": lambda r: _token(
        "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={};EndpointSuffix=core.windows.net\n",
        pick(r, B64, 86) + "=="),
    "azure-sas-token": lambda r: _token(
        "https://acct.blob.core.windows.net/c/f?sv=2022-11-02&ss=b&srt=o&sp=r&se=2030-01-01T00:00:00Z&sig={}\n",
        pick(r, B62, 44) + "%3D"),
    "azure-entra-client-secret": lambda r: _token(
        "client_secret: {}\n", pick(r, B62, 3) + "8Q~" + pick(r, B62 + "_~.-", 33) + "x"),
    "azure-identifiable-key": lambda r: _token("key={}\n", pick(r, B64, 52) + "JQQJ99" + pick(r, B64, 26)),
    "azure-devops-pat": lambda r: _token("AZURE_DEVOPS_PAT={}\n", pick(r, "abcdefghijklmnopqrstuvwxyz234567", 52)),
    "azure-container-registry-password": lambda r: _token("registry: myreg.azurecr.io password: {}\n",
                                                          pick(r, B62, 32)),
    "azure-app-config-connection-string": lambda r: _token(
        f"Endpoint=https://cfg-{pick(r, LOWER, 6)}.azconfig.io;Id=a1b2-l0-s0:{b62(r, 10)};Secret={{}}\n",
        pick(r, B64, 44)),
    "alibaba-access-key-id": lambda r: _token("ALIBABA_ID={}\n", "LTAI" + b62(r, 20)),
    "alibaba-secret-key": lambda r: _keyed("alibaba", pick(r, LOWER, 30)),
    "github-pat": lambda r: _token("GITHUB_TOKEN={}\n", "ghp_" + b62(r, 36)),
    "github-oauth": lambda r: _token("oauth: {}\n", "gho_" + b62(r, 36)),
    "github-app-token": lambda r: _token("token {}\n", "ghs_" + b62(r, 36)),
    "github-refresh-token": lambda r: _token("refresh {}\n", "ghr_" + b62(r, 76)),
    "github-fine-grained-pat": lambda r: _token("GH={}\n", f"github_pat_{b62(r, 22)}_{b62(r, 59)}"),
    "gitlab-pat": lambda r: _token("GITLAB={}\n", "glpat-" + pick(r, B62 + "_-", 20)),
    "gitlab-runner-token": lambda r: _token("runner {}\n", "glrt-" + pick(r, B62, 24)),
    "gitlab-deploy-token": lambda r: _token("deploy {}\n", "gldt-" + pick(r, B62, 24)),
    "gitlab-pipeline-trigger-token": lambda r: _token("trigger {}\n", "glptt-" + hexs(r, 40)),
    "npm-access-token": lambda r: _token("NPM={}\n", "npm_" + b62(r, 36)),
    "pypi-upload-token": lambda r: _token("upload {}\n", "pypi-AgEIcHlwaS5vcmc" + pick(r, B62 + "_-", 80)),
    "rubygems-api-token": lambda r: _token("gem {}\n", "rubygems_" + hexs(r, 48)),
    "clojars-api-token": lambda r: _token("c {}\n", "CLOJARS_" + b62(r, 60)),
    "private-packagist-token": lambda r: _token("p {}\n", "packagist_uut_" + hexs(r, 68)),
    "hashicorp-tf-api-token": lambda r: _token("t {}\n", f"{b62(r, 14)}.atlasv1.{pick(r, B62 + '_-', 64)}"),
    "pulumi-api-token": lambda r: _token("p {}\n", "pul-" + hexs(r, 40)),
    "doppler-api-token": lambda r: _token("d {}\n", "dp.pt." + b62(r, 43)),
    "databricks-api-token": lambda r: _token("d {}\n", "dapi" + pick(r, AH, 32)),
    "postman-api-token": lambda r: _token("p {}\n", f"PMAK-{hexs(r, 24)}-{hexs(r, 34)}"),
    "grafana-api-token": lambda r: _token("g {}\n", "eyJrIjoi" + b62(r, 80)),
    "grafana-cloud-token": lambda r: _token("g {}\n", "glc_" + pick(r, B62, 48)),
    "grafana-service-account-token": lambda r: _token("g {}\n", f"glsa_{b62(r, 32)}_{hexs(r, 8)}"),
    "dynatrace-api-token": lambda r: _token("d {}\n", f"dt0c01.{b62(r, 24)}.{b62(r, 64)}"),
    "new-relic-user-api-key": lambda r: _token("n {}\n", "NRAK-" + pick(r, UPPER, 27)),
    "new-relic-browser-api-token": lambda r: _token("n {}\n", "NRJS-" + hexs(r, 19)),
    "new-relic-user-api-id": lambda r: _keyed("newrelic", pick(r, UPPER, 64)),
    "planetscale-password": lambda r: _token("p {}\n", "pscale_pw_" + b62(r, 43)),
    "planetscale-api-token": lambda r: _token("p {}\n", "pscale_tkn_" + b62(r, 43)),
    "planetscale-oauth-token": lambda r: _token("p {}\n", "pscale_oauth_" + b62(r, 40)),
    "frameio-api-token": lambda r: _token("f {}\n", "fio-u-" + pick(r, B62, 64)),
    "linear-api-token": lambda r: _token("l {}\n", "lin_api_" + b62(r, 40)),
    "linear-client-secret": lambda r: _keyed("linear", hexs(r, 32)),
    "slack-token": lambda r: _token("SLACK={}\n", f"xoxb-{pick(r, string.digits, 12)}-{pick(r, string.digits, 13)}"
                                                   f"-{b62(r, 24)}"),
    "slack-app-token": lambda r: _token("s {}\n", f"xapp-1-A{pick(r, UPPER, 10)}-{pick(r, string.digits, 13)}-"
                                                  f"{pick(r, LOWER, 64)}"),
    "slack-webhook": _slack_webhook,
    "twilio-api-key": lambda r: _token("t {}\n", "SK" + hexs(r, 32)),
    "twilio-auth-token": lambda r: _keyed("twilio", hexs(r, 32)),
    "sendgrid-api-token": lambda r: _token("s {}\n", f"SG.{pick(r, B62 + '_-', 22)}.{pick(r, B62 + '_-', 43)}"),
    "sendinblue-api-token": lambda r: _token("s {}\n", f"xkeysib-{hexs(r, 64)}-{b62(r, 16)}"),
    "mailchimp-api-key": lambda r: _keyed("mailchimp", f"{hexs(r, 32)}-us12"),
    "mailgun-token": lambda r: _keyed("mailgun", f"key-{hexs(r, 32)}"),
    "mailgun-signing-key": lambda r: _keyed("mailgun", f"{hexs(r, 32)}-{hexs(r, 8)}-{hexs(r, 8)}"),
    "messagebird-api-token": lambda r: _keyed("messagebird", pick(r, LOWER, 25)),
    "messagebird-client-id": lambda r: _keyed("messagebird", uuid(r)),
    "discord-api-token": lambda r: _keyed("discord", hexs(r, 64)),
    "discord-client-id": lambda r: _keyed("discord", pick(r, string.digits, 18)),
    "discord-client-secret": lambda r: _keyed("discord", pick(r, LOWER, 32)),
    "intercom-api-token": lambda r: _keyed("intercom", pick(r, LOWER, 60)),
    "intercom-client-secret": lambda r: _keyed("intercom", uuid(r)),
    "stripe-secret-key": lambda r: _token("STRIPE={}\n", "sk_live_" + b62(r, 24)),
    "stripe-test-secret-key": lambda r: _token("STRIPE={}\n", "sk_test_" + b62(r, 24)),
    "stripe-publishable-key": lambda r: _token("STRIPE={}\n", "pk_live_" + b62(r, 24)),
    "stripe-webhook-secret": lambda r: _token("w {}\n", "whsec_" + b62(r, 32)),
    "shopify-token": lambda r: _token("s {}\n", "shpat_" + hexs(r, 32)),
    "flutterwave-key": lambda r: _token("f {}\n", f"FLWSECK_TEST-{pick(r, AH, 32)}-X"),
    "flutterwave-enc-key": lambda r: _token("f {}\n", "FLWSECK_TEST" + pick(r, AH, 12)),
    "duffel-api-token": lambda r: _token("d {}\n", "duffel_test_" + pick(r, B62, 43)),
    "easypost-api-token": lambda r: _token("e {}\n", "EZAK" + b62(r, 54)),
    "shippo-api-token": lambda r: _token("s {}\n", "shippo_live_" + hexs(r, 40)),
    "gocardless-api-token": lambda r: _token('gc = "{}"\n', "live_" + pick(r, B62, 40)),
    "finicity-client-secret": lambda r: _keyed("finicity", pick(r, LOWER, 20)),
    "finicity-api-token": lambda r: _keyed("finicity", hexs(r, 32)),
    "lob-api-key": lambda r: _keyed("lob", f"live_{hexs(r, 35)}"),
    "lob-pub-api-key": lambda r: _keyed("lob", f"live_pub_{hexs(r, 31)}"),
    "openai-api-key": lambda r: _token("OPENAI={}\n", f"sk-proj-{b62(r, 40)}T3BlbkFJ{b62(r, 40)}"),
    "openai-realtime-client-secret": lambda r: _token("client_secret.value: {}\n", "ek_" + hexs(r, 32)),
    "anthropic-api-key": lambda r: _token("A={}\n", f"sk-ant-api03-{pick(r, B62 + '_-', 95)}"),
    "hugging-face-access-token": lambda r: _token("HF={}\n", "hf_" + b62(r, 34)),
    "age-secret-key": lambda r: _token("# key\n{}\n", "AGE-SECRET-KEY-1" + pick(r, BECH32, 58)),
    "adobe-client-secret": lambda r: _token("a {}\n", "p8e-" + b62(r, 32)),
    "adobe-client-id": lambda r: _keyed("adobe", hexs(r, 32)),
    "asana-client-id": lambda r: _keyed("asana", pick(r, string.digits, 16)),
    "asana-client-secret": lambda r: _keyed("asana", pick(r, LOWER, 32)),
    "atlassian-api-token": lambda r: _keyed("atlassian", pick(r, LOWER, 24)),
    "bitbucket-client-id": lambda r: _keyed("bitbucket", pick(r, LOWER, 32)),
    "bitbucket-client-secret": lambda r: _keyed("bitbucket", pick(r, LOWER, 64)),
    "beamer-api-token": lambda r: _keyed("beamer", "b_" + pick(r, LOWER, 44)),
    "contentful-delivery-api-token": lambda r: _keyed("contentful", pick(r, LOWER, 43)),
    "dropbox-api-secret": lambda r: _keyed("dropbox", pick(r, LOWER, 15)),
    "dropbox-short-lived-api-token": lambda r: _keyed("dropbox", "sl." + pick(r, LOWER, 135)),
    "dropbox-long-lived-api-token": lambda r: _keyed("dropbox", pick(r, LOWER, 11) + "AAAAAAAAAA" + pick(r, LOWER, 43)),
    "facebook-token": lambda r: _keyed("facebook", hexs(r, 32)),
    "fastly-api-token": lambda r: _keyed("fastly", pick(r, LOWER, 32)),
    "heroku-api-key": lambda r: _keyed("heroku", uuid(r)),
    "hubspot-api-token": lambda r: _keyed("hubspot", uuid(r)),
    "ionic-api-token": lambda r: _keyed("ionic", "ion_" + pick(r, LOWER, 42)),
    "linkedin-client-secret": lambda r: _keyed("linkedin", pick(r, string.ascii_lowercase, 16)),
    "linkedin-client-id": lambda r: _keyed("linkedin", pick(r, LOWER, 14)),
    "mapbox-api-token": lambda r: _token("m {}\n", f"pk.eyJ{b62(r, 60)}.{pick(r, B62, 22)}"),
    "twitch-api-token": lambda r: _keyed("twitch", pick(r, LOWER, 30)),
    "twitter-token": lambda r: _keyed("twitter", hexs(r, 40)),
    "typeform-api-token": lambda r: _token("t {}\n", "tfp_" + pick(r, B62, 59)),
    "symfony-default-secret": lambda r: _token("APP_SECRET={}\n", "ThisTokenIsNotSoSecretChangeIt"),
    "pypirc-password": lambda r: (lambda p: (f"[pypi]\nusername = ci\npassword = {p}\n", p, "root/.pypirc"))(
        password(r)),
    "netrc-password": lambda r: (lambda p: (f"machine api.internal login ci password {p}\n", p, "root/.netrc"))(
        password(r)),
    "pgpass-password": lambda r: (lambda p: (f"db.internal:5432:app:app:{p}\n", p, "root/.pgpass"))(password(r)),
    "kubeconfig-token": lambda r: (lambda t: (f"users:\n- name: ci\n  user:\n    token: {t}\n", t,
                                              "root/.kube/config"))(b62(r, 40)),
    "kubeconfig-client-key": lambda r: _token("    client-key-data: {}\n", base64.b64encode(r.randbytes(90)).decode()),
    "npmrc-auth-token": lambda r: _token("//npm.internal/:_authToken={}\n", b62(r, 32)),
    "docker-config-auth": lambda r: (lambda a: (json.dumps({"auths": {"reg.internal": {"auth": a}}}), a, None))(
        basic_auth(r)),
    "docker-config-identity-token": lambda r: (lambda t: (json.dumps({"auths": {"r": {"identitytoken": t}}}), t,
                                                          None))(b62(r, 40)),
    "dockerconfig-secret": lambda r: (lambda v: (f"data:\n  .dockerconfigjson: {v}\n", v, None))(
        base64.b64encode(json.dumps({"auths": {"r": {"auth": basic_auth(r)}}}).encode()).decode()),
    "maven-settings-password": lambda r: (lambda p: (f"<server><id>x</id><password>{p}</password></server>", p, None))(
        password(r)),
    "maven-settings-passphrase": lambda r: (lambda p: (f"<server><passphrase>{p}</passphrase></server>", p, None))(
        password(r)),
    "maven-settings-security-master": lambda r: (lambda p: (f"<settingsSecurity><master>{p}</master>"
                                                            "</settingsSecurity>", p, None))(
        "{" + pick(r, B64, 44) + "}"),
    "private-key": lambda r: (lambda k: (f"# deploy key\n{k}", k[k.index("\n") + 1:k.index("-----END")], None))(
        pem_key(r)),
    "encrypted-private-key": lambda r: (lambda k: (k, k[k.index("\n") + 1:k.index("-----END")], None))(
        encrypted_pem_key(r)),
    "http-basic-auth": lambda r: _token('curl -H "Authorization: Basic {}" https://api.internal/\n', basic_auth(r)),
    "jwt-token": lambda r: _token("cookie: {}\n", jwt(r)),
    "http-bearer-token": lambda r: _token("Authorization: Bearer {}\n", b62(r, 40)),
    "url-password": lambda r: _token("DATABASE_URL=postgres://app:{}@db.internal:5432/app\n", password(r)),
    "cli-basic-auth": lambda r: _token("RUN curl -fsSL -u deploy:{} https://repo.internal/f.tgz\n", password(r)),
    "cli-password-option": lambda r: _token("mysql -h db --password={} app\n", password(r)),
    "generic-password": lambda r: _token("DB_PASSWORD={}\n", password(r)),
    "generic-secret": lambda r: _token('client_secret: "{}"\n', b62(r, 30)),
    "generic-token": lambda r: _token("export API_TOKEN={}\n", b62(r, 32)),
    "generic-api-key": lambda r: _token('API_KEY="{}"\n', b62(r, 32)),
}

NearMiss = tuple[str, str | None]


NEAR_MISSES: dict[str, Callable[[random.Random], list[NearMiss]]] = {
    "aws-access-key-id": lambda r: [("id = AKIA" + pick(r, B32, 15) + " \n", None),
                                   ("id = X" + "AKIA" + pick(r, B32, 16) + "\n", None),
                                   ("aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n", None)],
    "aws-secret-access-key": lambda r: [("aws_secret_access_key = " + pick(r, LOWER, 40) + "\n", None),
                                       ("aws_secret_access_key = " + aws_secret_key(r)[:39] + "\n", None),
                                       ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n", None)],
    "github-pat": lambda r: [("t = ghp_" + b62(r, 35) + "\n", None), ("t = ghp_" + b62(r, 37) + "\n", None),
                             ("t = xghp_" + b62(r, 36) + "\n", None), ("t = ghp_" + "0" * 36 + "\n", None)],
    "npm-access-token": lambda r: [("t = npm_" + b62(r, 35) + "\n", None)],
    "slack-token": lambda r: [("xoxb-12345\n", None)],
    "stripe-secret-key": lambda r: [("sk_live_" + b62(r, 10) + "\n", None)],
    "twilio-api-key": lambda r: [("ASK" + hexs(r, 32) + "\n", None), ("SK" + hexs(r, 31) + "\n", None)],
    "google-api-key": lambda r: [("AIza" + b62(r, 30) + "\n", None)],
    "openai-api-key": lambda r: [(f"sk-ant-{b62(r, 20)}T3BlbkFJ{b62(r, 20)}\n", None),
                                 (f"sk-or-v1-{b62(r, 20)}T3BlbkFJ{b62(r, 20)}\n", None),
                                 (f"sk-{b62(r, 8)}T3BlbkFJ{b62(r, 8)}\n", None)],
    "openai-realtime-client-secret": lambda r: [("seek_" + hexs(r, 32) + "\n", None)],
    "maven-settings-password": lambda r: [("<password>${env.DEPLOY_PASSWORD}</password>\n", None),
                                          ("<password>{" + pick(r, B64, 40) + "}</password>\n", None)],
    "private-key": lambda r: [("-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----\n", None),
                              ("-----BEGIN CERTIFICATE-----\n" + pick(r, B64, 64) + "\n-----END CERTIFICATE-----\n",
                               None),
                              (encrypted_pem_key(r), None), (openssh_key(r, "aes256-ctr"), None)],
    "encrypted-private-key": lambda r: [(pem_key(r), None), (openssh_key(r), None)],
    "jwt-token": lambda r: [("eyJ" + b62(r, 20) + ".eyJ" + b62(r, 20) + "." + b62(r, 20) + "\n", None)],
    "http-basic-auth": lambda r: [("Authorization: Basic " + base64.b64encode(b"onlyuser").decode() + "\n", None)],
    "docker-config-auth": lambda r: [('{"auth": "' + base64.b64encode(b"nocolonhere").decode() + '"}', None),
                                     ('{"auth": "' + base64.b64encode(b"user:changeme").decode() + '"}', None)],
    "url-password": lambda r: [("postgres://user:password@localhost/db\n", None),
                               ("https://ci:${CI_TOKEN}@git.internal/repo.git\n", None),
                               (f"https://ci:{password(r)}@example.com/repo.git\n", None),
                               ("http://proxy:3128@gateway\n", None), ("fmt = '%s://%s:%s@%s'\n", None)],
    "cli-basic-auth": lambda r: [("curl -u $NEXUS_USER:$NEXUS_PASS https://n/x\n", None),
                                 ('curl -u "${USER}:${TOKEN}" https://n/x\n', None)],
    "cli-password-option": lambda r: [("docker login --password-stdin reg\n", None),
                                      ("mysql --password $DB_PASS\n", None)],
    "pypirc-password": lambda r: [(f"password = {password(r)}\n", "root/notes.txt"),
                                  ("[pypi]\npassword = <your-token>\n", "root/.pypirc")],
    "netrc-password": lambda r: [(f"password {password(r)}\n", "root/netrc.md")],
    "pgpass-password": lambda r: [(f"db:5432:app:app:{password(r)}\n", "root/pgpass.txt")],
    "kubeconfig-token": lambda r: [(f"    token: {b62(r, 40)}\n", "app/values.yaml")],
    "generic-password": lambda r: [("password = changeme\n", None), ("DB_PASSWORD=${DB_PASSWORD}\n", None),
                                   ("password: <password>\n", None), ("password = xxxxxxxx\n", None),
                                   ("password = request.form.get('password')\n", None),
                                   ("PASSWORD_FILE=/run/secrets/db_password\n", None),
                                   ("db_password = get_db_password_from_vault\n", None),
                                   ("attr_accessor proxy_pass: String?\n", None)],
    "generic-secret": lambda r: [("secret_name: my-app-tls\n", None), ('client_secret = "your-client-secret"\n', None),
                                 ("secret = os.environ['SECRET']\n", None)],
    "generic-token": lambda r: [("tokenizer = bert-base-uncased-v2\n", None), ("token_url: /oauth/token\n", None),
                                ("max_tokens = 4096\n", None), ("csrf_token = {{ csrf_token }}\n", None),
                                ("request.withCredentials = !!config.withCredentials;\n", None)],
    "generic-api-key": lambda r: [("api_key_id = " + b62(r, 20) + "\n", None), ("public_key = " + b62(r, 40) + "\n",
                                                                                None)],
    "heroku-api-key": lambda r: [("heroku_key = " + uuid(r) + "\n", None)],  # unquoted: not the keyed form
}

"""The table of secret shapes the shape rules mask with no learned values (logs, ConfigMaps, args).

Each row: (shape, text as a cluster or log prints it, the value that must vanish). The second table
is evidence that must come back unchanged (over-masking is a failure too).
"""

from __future__ import annotations

import pytest

from atlas_sre.commands import redact
from atlas_sre.commands.redact import credential_key
from atlas_sre.commands.secret_values import SecretValues, json_variant

SHAPES = [
    ("Authorization Token", "GET / Authorization: Token q8Xv2Lm9Rt5W\n", "q8Xv2Lm9Rt5W"),
    ("Authorization Bearer", "Authorization: Bearer abcDEF123456789xyz\n", "abcDEF123456789xyz"),
    ("Authorization Basic", "authorization=Basic dXNlcjpwYXNzd29yZA==\n", "dXNlcjpwYXNzd29yZA=="),
    ("Authorization Digest", 'Authorization: Digest username="u", response="6629fae49393a05397450978507c4ef1"\n',
     "6629fae49393a05397450978507c4ef1"),
    ("Proxy-Authorization", "Proxy-Authorization: Basic cHJveHk6c2VjcmV0MTIz\n", "cHJveHk6c2VjcmV0MTIz"),
    ("X-Api-Key mid-line", "req id=1 X-Api-Key: k3yV4lue99 status=200\n", "k3yV4lue99"),
    ("X-Auth-Token", "x-auth-token: 7f3Gh2Kk9Lq\n", "7f3Gh2Kk9Lq"),
    ("mysql -p", "exec: mysql -h db -uroot -pS3cretP4ss shop\n", "S3cretP4ss"),
    ("mysqldump -p in JSON args", '["mysqldump","-uroot","-pDumpP4ss9"]\n', "DumpP4ss9"),
    ("api_key VALUE prose", "loaded api_key ak93kdl2k for tenant\n", "ak93kdl2k"),
    ("token VALUE prose", "using token t0k3nValue55 now\n", "t0k3nValue55"),
    ("DB_PASS=", "DB_HOST=db DB_PASS=pw9Secret DB_PORT=5432\n", "pw9Secret"),
    ("password=", "msg=connect password=hunter2 user=app\n", "hunter2"),
    ("passwd:", "passwd: Zebra2Horse\n", "Zebra2Horse"),
    ("pwd=", "ADMIN_PWD=adm1nPwd!\n", "adm1nPwd"),
    ("--password VALUE", "args: --password flagPass77 --port 80\n", "flagPass77"),
    ("--password=VALUE", "--password=eqPass88\n", "eqPass88"),
    ("--token VALUE in JSON", '["--token", "argTok99"]\n', "argTok99"),
    ("--client-secret on its own line", "    Args:\n      --client-secret\n      cs3cr3tVal\n", "cs3cr3tVal"),
    ("YAML list args", "    - --api-key\n    - yamlApiKey12\n", "yamlApiKey12"),
    ("YAML env pair", "    - name: DB_PASS\n      value: envPass13\n", "envPass13"),
    ("JSON env pair", '{"name": "STRIPE_KEY", "value": "stripeVal14"}', "stripeVal14"),
    ("describe env", "      DJANGO_SECRET_KEY:  djangoVal15\n", "djangoVal15"),
    ("SECRET_KEY_BASE", "SECRET_KEY_BASE=skb16Value\n", "skb16Value"),
    ("JWT_SIGNING_KEY", "JWT_SIGNING_KEY: jwtSign17\n", "jwtSign17"),
    ("INI with spaces", "[default]\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG\n", "wJalrXUtnFEMI/K7MDENG"),
    ("INI in a JSON string", '"credentials": "[default]\\naws_secret_access_key = iniJson18\\n"', "iniJson18"),
    ("nested JSON pass", '{"db": {"host": "db", "pass": "nestedPass19"}}', "nestedPass19"),
    ("JSON in a JSON string", '"settings.json": "{\\"db\\":{\\"pass\\":\\"escPass20\\"}}"', "escPass20"),
    ("properties", "spring.datasource.password=springPw21\n", "springPw21"),
    ("YAML nested password", "smtp:\n  host: mail\n  password: smtpPw22\n", "smtpPw22"),
    ("npmrc _authToken", "//registry.npmjs.org/:_authToken=npmTok23abc\n", "npmTok23abc"),
    ("docker config auth", '{"auths":{"r.io":{"auth":"cm9ib3Q6cGFzczI0"}}}', "cm9ib3Q6cGFzczI0"),
    ("connection string", "Server=db;User Id=app;Password=connPw25;\n", "connPw25"),
    ("DSN", "SENTRY_DSN=https://abc26key@o1.ingest.sentry.io/5\n", "abc26key"),
    ("URL credentials", "amqp://guest:urlPw27@rabbit:5672/\n", "urlPw27"),
    ("query token", "GET /cb?access_token=qTok28&x=1\n", "qTok28"),
    ("salt", "SESSION_SALT: salty29Val\n", "salty29Val"),
    ("AWS key id", "key AKIAIOSFODNN7EXAMPLE in log\n", "AKIAIOSFODNN7EXAMPLE"),
    ("GitHub token", "ghp_abcdefghijklmnopqrstuvwxyz0123456789\n", "ghp_abcdefghijklmnopqrstuvwxyz012345"),
    ("Slack token", "xoxb-1234567890-abcdefghij\n", "xoxb-1234567890-abcdefghij"),
    ("OpenAI key", "sk-abcdefghijklmnopqrstuvwx\n", "sk-abcdefghijklmnopqrstuvwx"),
    ("Stripe live key", "charge with sk_live_abcdefghij123\n", "sk_live_abcdefghij123"),
    ("JWT", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijklmnop\n",
     "eyJzdWIiOiIxMjM0NTY3ODkwIn0"),
    ("PEM private key", "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIPem30\n-----END EC PRIVATE KEY-----\n",
     "MHcCAQEEIPem30"),
    ("PGP private key block",
     "-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQPGBGPgp31\n-----END PGP PRIVATE KEY BLOCK-----\n",
     "lQPGBGPgp31"),
    ("high entropy next to a credential word", "refreshed credential Zq8Xv2Lm9Rt5Wy46Ab for sa\n",
     "Zq8Xv2Lm9Rt5Wy46Ab"),
    ("Secret data block", "data:\n  password: aHVudGVyMmh1bnRlcjI=\nkind: Secret\n", "aHVudGVyMmh1bnRlcjI="),
    ("camelCase clientSecret", "clientSecret: cSec32Value\n", "cSec32Value"),
]

EVIDENCE = [
    "api-7c9d8f6b5d-x2kqz   1/1   Running   0   5m   10.0.0.7   worker-1\n",
    "    pod-template-hash: 7c9d8f6b5d\n",
    "  uid: 3f2a9c1e-7b4d-4e8f-9a0b-1c2d3e4f5a6b\n",
    "    image: registry.example.io/shop/api@sha256:" + "0123456789abcdef" * 4 + "\n",
    "    imageID: docker.io/library/nginx@sha256:" + "ab" * 32 + "\n",
    "      topologyKey: kubernetes.io/hostname\n",
    "        secretKeyRef:\n          key: db-password\n          name: app-secrets\n",
    "      DB_PASSWORD:  <set to the key 'password' in secret 'db'>  Optional: false\n",
    "tokenreviews                      authentication.k8s.io/v1   false   TokenReview\n",
    "Mountable secrets:   default-token-abc\nTokens:              <none>\n",
    "  - --authorization-mode=Node,RBAC\n  - --authorization-kubeconfig=/etc/kubernetes/scheduler.conf\n",
    "password authentication failed for user app\n",
    "token expired; refreshing\n",
    "    serviceAccountName: default\n    automountServiceAccountToken: false\n",
    "    - name: kube-api-access-x2kqz\n      projected:\n        sources:\n        - serviceAccountToken:\n"
    "            expirationSeconds: 3607\n            path: token\n",
]


def test_the_table_is_large() -> None:
    assert len(SHAPES) >= 40


@pytest.mark.parametrize(("shape", "text", "secret"), SHAPES, ids=[s[0] for s in SHAPES])
def test_shape_is_masked(shape: str, text: str, secret: str) -> None:
    masked, count = redact(text)
    assert secret not in masked, masked
    assert count >= 1
    assert redact(masked)[0] == masked


@pytest.mark.parametrize("text", EVIDENCE)
def test_evidence_stays(text: str) -> None:
    assert redact(text) == (text, 0)


@pytest.mark.parametrize(("key", "sensitive"), [
    ("DB_PASS", True), ("DBPASS", True), ("X-Api-Key", True), ("apiKey", True), ("client-key-data", True),
    ("auth", True), ("SENTRY_DSN", True), ("SESSION_SALT", True), ("signingKey", True), ("key", False),
    ("secretName", False), ("secretKeyRef", False), ("tokenExpirationSeconds", False), ("topologyKey", False),
    ("authorization-mode", False), ("secrets", False), ("name", False), ("pod-template-hash", False),
])
def test_credential_key(key: str, sensitive: bool) -> None:
    assert credential_key(key) is sensitive


def test_values_are_learned_from_structure_and_masked_in_every_form() -> None:
    learned = SecretValues()
    learned.learn({"kind": "List", "items": [
        {"kind": "Secret", "metadata": {"name": "s"}, "data": {"k": "b3JjaGlkbGFudGVybg=="}},
        {"kind": "Pod", "metadata": {"name": "api-0", "labels": {"app": "api"}},
         "spec": {"containers": [{"name": "app", "image": "img:1",
                                  "env": [{"name": "DB_PASS", "value": "envValue1"}],
                                  "args": ["--password", "argValue2", "--port", "8080"]}]}},
    ]})
    text = "orchidlantern envValue1 argValue2 b3JjaGlkbGFudGVybg== ZW52VmFsdWUx api-0 8080 img:1 app\n"
    masked, count = learned.mask(text)
    assert masked == "[REDACTED] [REDACTED] [REDACTED] [REDACTED] [REDACTED] api-0 8080 img:1 app\n"
    assert count == 5


def test_json_variant_of_keyless_formats() -> None:
    assert json_variant(["get", "deploy", "-n", "shop", "-o", "jsonpath={..value}"]) == (
        "get", "deploy", "-n", "shop", "-o", "json", "--show-managed-fields=false")
    assert json_variant(["get", "pods", "--template={{.x}}"])[-2:] == ("json", "--show-managed-fields=false")
    assert json_variant(["get", "pods", "-o", "yaml"]) is None

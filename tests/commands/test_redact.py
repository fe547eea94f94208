"""Redaction: credentials masked in every common shape; evidence (names, structure, sizes) kept."""

from __future__ import annotations

import pytest

from atlas_sre.commands import redact


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer eyJhbGciOiJSUzI1NiJ9abcdefgh\n", "eyJhbGciOiJSUzI1NiJ9abcdefgh"),
        ("curl -H 'Authorization: Basic dXNlcjpwYXNzd29yZA=='\n", "dXNlcjpwYXNzd29yZA=="),
        ("level=info msg=connect password=hunter2 user=app\n", "hunter2"),
        ("args: [--db-password=hunter2, --port=5432]\n", "hunter2"),
        ("    env:\n    - name: DB_PASSWORD\n      value: hunter2\n", "hunter2"),
        ('{"name": "API_TOKEN", "value": "tok-123456"}', "tok-123456"),
        ('{"name":"STRIPE_SECRET","value":"sk_live_abc"}', "sk_live_abc"),
        ("    Environment:\n      POSTGRES_PASSWORD:  hunter2\n", "hunter2"),
        ("token: abc.def.ghi\n", "abc.def.ghi"),
        ("  apiKey: 'AIzaSyD-notreal'\n", "AIzaSyD-notreal"),
        ('{"password": "hunter2", "user": "app"}', "hunter2"),
        ("aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n", "AKIAIOSFODNN7EXAMPLE"),
        ("key AKIAIOSFODNN7EXAMPLE in log\n", "AKIAIOSFODNN7EXAMPLE"),
        ("aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n", "wJalrXUtnFEMI"),
        ("DATABASE_URL=postgres://app:s3cr3t@db.shop:5432/orders\n", "s3cr3t"),
        ("redis://:s3cr3t@cache:6379\n", "s3cr3t"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAabc\nxyz\n-----END RSA PRIVATE KEY-----\n",
         "MIIEowIBAAKCAQEAabc"),
        ('"tls.key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBg\\n-----END PRIVATE KEY-----\\n"',
         "MIIEvQIBADANBg"),
        ("data:\n  ca.crt: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t\n  namespace: ZGVmYXVsdA==\nkind: Secret\n",
         "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t"),
        ("users:\n- name: u\n  user:\n    client-key-data: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVk=\n",
         "LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVk="),
        ("jwt eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJpc3MiOiJrdWJlcm5ldGVzIn0.c2lnbmF0dXJlc2lnbmF0dXJl\n",
         "eyJpc3MiOiJrdWJlcm5ldGVzIn0"),
        ("GITHUB_TOKEN ghp_abcdefghijklmnopqrstuvwxyz0123456789\n", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
        ("callback?token=abc123&x=1\n", "abc123"),
    ],
)
def test_secret_values_are_masked(text: str, secret: str) -> None:
    masked, count = redact(text)
    assert secret not in masked
    assert count >= 1
    assert redact(masked)[0] == masked  # idempotent


@pytest.mark.parametrize(
    "text",
    [
        "automountServiceAccountToken: false\n",
        "      secretName: db-credentials\n",
        "        secretKeyRef:\n          key: password\n          name: db\n",
        "Data\n====\npassword:  8 bytes\ntoken:     952 bytes\n",
        "      DB_PASSWORD:  <set to the key 'password' in secret 'db'>  Optional: false\n",
        "  volumes:\n  - name: certs\n    secret:\n      secretName: istio-ca\n",
        "Mountable secrets:   default-token-abc\nTokens:              <none>\n",
        "TokenExpirationSeconds:  3607\n",
        "image: registry/checkout@sha256:" + "a" * 64 + "\n",
        "kind: ConfigMap\ndata:\n  LOG_LEVEL: debug\n  UPSTREAM: http://payments.shop:8080\n",
        "http://checkout.shop:8080/health\n",
        '{"name": "LOG_LEVEL", "value": "debug"}',
        "NAME   READY   STATUS    RESTARTS   AGE\ncheckout-abc   1/1   Running   0   5m\n",
    ],
)
def test_evidence_is_left_alone(text: str) -> None:
    assert redact(text) == (text, 0)


def test_structure_is_kept() -> None:
    masked, _ = redact("    env:\n    - name: DB_PASSWORD\n      value: hunter2\n    - name: PORT\n      value: '80'\n")
    assert masked == "    env:\n    - name: DB_PASSWORD\n      value: [REDACTED]\n    - name: PORT\n      value: '80'\n"
    masked, _ = redact('{"password": "hunter2"}')
    assert masked == '{"password": "[REDACTED]"}'

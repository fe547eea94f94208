"""A served test scenario with planted credentials in every place a cluster keeps them.

`SHAPES` is the table of secret shapes: (shape, planted value). Each value is unique and appears
in exactly the place its shape names: a Secret's data, a container env var, a container arg, a
ConfigMap file or a log line the simulated container writes. The attack tests read the scenario
through the command layer with real kubectl and assert that no planted value reaches the output.
`EVIDENCE` are words that must stay visible (names, hashes, images): over-masking is a failure too.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

from atlas_sre.sim.clock import SimClock, parse_time
from atlas_sre.sim.images import ImageBehaviour, Listen, LogTemplates
from atlas_sre.sim.state import SimSpec

START = parse_time("2026-11-26T09:10:00Z")
API_IMAGE = "registry.example.io/shop/api:2.4.1"
BACKUP_IMAGE = "registry.example.io/shop/backup:1.0"



SECRET_DATA = {
    "db-password": "Pl4nt-DbSecretPass-91",
    "api-token": "Pl4ntApiTok3n_0x55",
    "jwt-key": "Pl4nt.JwtSigning.Key/88",
    "plain-word": "orchidlantern",  # no credential shape at all: only the value learner can hide it
    "config.ini": "[client]\nuser = app\npassword = Pl4ntIniPassFromSecret\n",
    "tls.key": "-----BEGIN PRIVATE KEY-----\nMIIPl4ntPemBodyLine000001\n-----END PRIVATE KEY-----\n",
}
ENV = {
    "DB_PASS": "Pl4ntEnvDbPass01",
    "DB_PASSWORD": "Pl4ntEnvDbPassword02",
    "DJANGO_SECRET_KEY": "Pl4ntDjangoSecret03",
    "SECRET_KEY_BASE": "Pl4ntSecretKeyBase04",
    "JWT_SIGNING_KEY": "Pl4ntJwtSigningKey05",
    "STRIPE_KEY": "Pl4ntStripeKey06",
    "API_KEY": "Pl4ntApiKey07",
    "AUTH_TOKEN": "Pl4ntAuthToken08",
    "MYSQL_PWD": "Pl4ntMysqlPwd09",
    "REDIS_AUTH": "Pl4ntRedisAuth10",
    "SESSION_SALT": "Pl4ntSessionSalt11",
    "SENTRY_DSN": "https://Pl4ntSentryDsn12@o1.ingest.sentry.io/5",
    "CONNECTION_STRING": "Server=db;Database=shop;User Id=app;Password=Pl4ntConnStr13;",
    "OAUTH_CLIENT_SECRET": "Pl4ntOauthSecret14",
    "ENCRYPTION_KEY": "Pl4ntEncryptionKey15",
    "PRIVATE_KEY_PASSPHRASE": "Pl4ntPassphrase16",
    "GITHUB_TOKEN": "ghp_Pl4ntGithubToken17abcdefghijklmnopq",
    "SLACK_BOT_TOKEN": "xoxb-1234567890-Pl4ntSlack18",
    "OPENAI_API_KEY": "sk-Pl4ntOpenAiKey19abcdefghijkl",
    "AWS_SECRET_ACCESS_KEY": "Pl4ntAwsSecret20/K7MDENGbPxRfiCY",
    "DATABASE_URL": "postgres://app:Pl4ntUrlPass21@db.shop:5432/orders",
    "webhookSigningSecret": "Pl4ntWebhookSecret22",
    "ADMIN_PWD": "Pl4ntAdminPwd23",
}
ARGS = {
    "--password VALUE": "Pl4ntArgPassword24",
    "--password=VALUE": "Pl4ntArgPasswordEq25",
    "--token VALUE": "Pl4ntArgToken26",
    "--api-key=VALUE": "Pl4ntArgApiKey27",
    "--client-secret VALUE": "Pl4ntArgClientSecret28",
    "mysqldump -pVALUE": "Pl4ntMysqlDumpP29",
}
CONFIG = {
    "INI aws_secret_access_key": "Pl4ntIniAwsSecret30",
    "nested JSON pass": "Pl4ntNestedJsonPass31",
    "properties datasource.password": "Pl4ntSpringPass32",
    "YAML smtp password": "Pl4ntSmtpPass33",
    "npmrc _authToken": "Pl4ntNpmAuthToken34",
    "docker config auth": base64.b64encode(b"robot:Pl4ntDockerAuth35").decode(),
    "mysql -p in a script": "Pl4ntScriptMysqlP36",
}
LOGS = {
    "Authorization: Token": "Pl4ntLogTokenHdr37",
    "X-Api-Key mid-line": "Pl4ntLogXApiKey38",
    "mysql -pPASS in a log": "Pl4ntLogMysqlP39",
    "api_key VALUE": "Pl4ntLogApiKey40",
    "DB_PASS=": "Pl4ntLogDbPass41",
    "Authorization: Bearer": "Pl4ntLogBearer42abcdef",
    "password=": "Pl4ntLogPasswordEq43",
    'JSON "password"': "Pl4ntLogJsonPass44",
    "URL credentials": "Pl4ntLogUrlPass45",
    "secret echoed without a key": SECRET_DATA["db-password"],
    "high-entropy token near a credential word": "Pl4ntZq8Xv2Lm9Rt5Wy46",
}

SHAPES: list[tuple[str, str]] = (
    [(f"Secret data {k}", v) for k, v in SECRET_DATA.items()]
    + [(f"env {k}", v) for k, v in ENV.items()]
    + [(f"arg {k}", v) for k, v in ARGS.items()]
    + [(f"ConfigMap {k}", v) for k, v in CONFIG.items()]
    + [(f"log {k}", v) for k, v in LOGS.items()]
)
# The values to look for in output: a multi-line Secret value is checked by its credential line.
PLANTED: list[str] = sorted({v for _, v in SHAPES if "\n" not in v} | {
    "Pl4ntIniPassFromSecret", "MIIPl4ntPemBodyLine000001", base64.b64encode(b"Pl4nt-DbSecretPass-91").decode(),
    "Pl4ntUrlPass21", "Pl4ntConnStr13", "Pl4ntSentryDsn12", "Pl4ntDockerAuth35",
})

_LOG_LINES = [
    f"GET /v1/orders from 10.0.0.7 headers: Authorization: Token {LOGS['Authorization: Token']}",
    f"request id=42 path=/pay X-Api-Key: {LOGS['X-Api-Key mid-line']} status=200",
    f"running: mysql -h db -uroot -p{LOGS['mysql -pPASS in a log']} shop < /init.sql",
    f"loaded api_key {LOGS['api_key VALUE']} for tenant acme",
    f"env dump DB_HOST=db DB_PASS={LOGS['DB_PASS=']} DB_PORT=5432",
    f"upstream call Authorization: Bearer {LOGS['Authorization: Bearer']}",
    f"level=info msg=connect user=app password={LOGS['password=']}",
    '{"level":"debug","msg":"login","password":"' + LOGS['JSON "password"'] + '"}',
    f"dialing amqp://guest:{LOGS['URL credentials']}@rabbit:5672/",
    f"connecting to db with {LOGS['secret echoed without a key']} as app",
    f"refreshed credential {LOGS['high-entropy token near a credential word']} for service account",
    "ready: listening on :8080",
]


def _secret() -> dict[str, Any]:
    data = {k: base64.b64encode(v.encode()).decode() for k, v in SECRET_DATA.items()}
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "app-secrets", "namespace": "shop"},
            "type": "Opaque", "data": data}


def _configmap() -> dict[str, Any]:
    docker = json.dumps({"auths": {"registry.example.io": {"auth": CONFIG["docker config auth"]}}})
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app-config", "namespace": "shop"},
            "data": {
                "credentials": f"[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
                               f"aws_secret_access_key = {CONFIG['INI aws_secret_access_key']}\n",
                "settings.json": json.dumps({"db": {"host": "db", "pass": CONFIG["nested JSON pass"]}}),
                "application.properties": "spring.datasource.url=jdbc:postgresql://db/shop\n"
                                          f"spring.datasource.password={CONFIG['properties datasource.password']}\n",
                "mail.yaml": f"smtp:\n  host: mail\n  password: {CONFIG['YAML smtp password']}\n",
                ".npmrc": f"//registry.npmjs.org/:_authToken={CONFIG['npmrc _authToken']}\n",
                "config.json": docker,
                "init.sh": f"#!/bin/sh\nmysql -h db -uroot -p{CONFIG['mysql -p in a script']} < /schema.sql\n",
                "LOG_LEVEL": "debug",
            }}


def _deployment(name: str, image: str, container: dict[str, Any]) -> dict[str, Any]:
    spec = {"name": "app", "image": image, "ports": [{"containerPort": 8080, "name": "http"}], **container}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "shop", "labels": {"app": name}},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [spec]}}}}


def manifests() -> list[dict[str, Any]]:
    """Namespace, node, the Secret, the ConfigMap and two Deployments carrying env and args."""
    env = [{"name": k, "value": v} for k, v in ENV.items()]
    env.append({"name": "DB_PASSWORD_FROM_SECRET",
                "valueFrom": {"secretKeyRef": {"name": "app-secrets", "key": "db-password"}}})
    args = ["--password", ARGS["--password VALUE"], f"--password={ARGS['--password=VALUE']}",
            "--token", ARGS["--token VALUE"], f"--api-key={ARGS['--api-key=VALUE']}",
            "--client-secret", ARGS["--client-secret VALUE"], "--port=8080"]
    backup_args = ["mysqldump", "-h", "db", "-uroot", f"-p{ARGS['mysqldump -pVALUE']}", "--all-databases"]
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "worker-1", "labels": {}},
         "status": {"allocatable": {"cpu": "8", "memory": "32Gi", "pods": "110"}}},
        _secret(), _configmap(),
        _deployment("api", API_IMAGE, {"env": env, "args": args}),
        _deployment("backup", BACKUP_IMAGE, {"args": backup_args}),
    ]


def spec() -> SimSpec:
    """The scenario as the simulator takes it (fixed clock, two images; the api image writes the logs)."""
    behaviour = ImageBehaviour(listen=[Listen(port=8080)], health={"path": "/health"},
                               logs=LogTemplates(startup=_LOG_LINES))
    registry = {API_IMAGE: behaviour, BACKUP_IMAGE: ImageBehaviour(listen=[Listen(port=8080)])}
    clock = SimClock(START, START + timedelta(minutes=20), START + timedelta(minutes=50),
                     parse_time("2026-01-01T12:00:00Z"))
    return SimSpec(manifests=manifests(), registry=registry, clock=clock, seed=1, history={})

"""Writes compose.yaml and k8s/atelier.yaml from the platform's own process topology.

    uv run python deploy/render.py [--image REPO:TAG] [--host atelier.example.com]

The processes are exactly those `atelier up` starts (`atelier_platform.processes.Topology`): each
gets a compose service and a Kubernetes Deployment with the same `atelier` command, so a role
added there is deployed by the next render. HTTP processes (`atelier serve`, `atelier gateway`)
serve the API, /health and /ready on port 8000; the others serve /health and /ready on
ATELIER_PROBE_PORT. libs/platform/tests/test_deploy.py checks the committed files are up to date.
"""

from __future__ import annotations

import argparse
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from atelier_gateway.console import CONSOLE_PATH
from atelier_gateway.routing import ROUTES
from atelier_platform.processes import Topology

HERE = Path(__file__).parent
VERSION = tomllib.loads((HERE.parent / "pyproject.toml").read_text())["project"]["version"]
# Pinned: the workspace's version; a release renders with its own tag (`--image`).
DEFAULT_IMAGE = f"atelier:{VERSION}"
DEFAULT_HOST = "atelier.example.com"
HTTP_PORT = 8000
PROBE_PORT = 9000
UID = 10001  # the Dockerfile's `atelier` user
# Who may say who the client is (README, Configuration): in Kubernetes the Ingress controller's
# pods, somewhere in the cluster's pod network (10.0.0.0/8 in most clusters; render with
# --trusted-proxies for another). ingress-nginx sets X-Forwarded-For to the address it was reached
# from. Compose publishes the gateway itself: no proxy, the socket's peer is the client.
DEFAULT_TRUSTED_PROXIES = ["10.0.0.0/8"]
# Every product's compatibility profile, at /compat/<profile>/ (README, Compatibility profiles).
COMPAT_PATH = "/compat"
COMPAT_PROFILES = '["all"]'

# Values that are no secret. Everything secret — the connection URLs (they carry passwords) and
# what production requires (`atelier secrets`) — comes from the env file (compose) or the Secret
# `atelier-secrets` (Kubernetes): README, Secrets.
SECRET_NAME = "atelier-secrets"


@dataclass(frozen=True)
class Process:
    name: str                     # as `atelier up` names it: catalog-api, catalog-relay, gateway, …
    args: list[str]               # the `atelier` arguments
    env: dict[str, str] = field(default_factory=dict)
    http: bool = False            # serves the API (and /health, /ready) on HTTP_PORT
    probe: bool = False           # serves /health and /ready on ATELIER_PROBE_PORT
    service: str | None = None    # the service it belongs to (None: the gateway)


def processes() -> list[Process]:
    """`atelier up`'s split topology, with container ports instead of this machine's."""
    topology = Topology(postgres="", amqp="", host="0.0.0.0", port=HTTP_PORT, probe_base_port=PROBE_PORT)
    out = []
    for name, command, extra in topology.commands():
        args = command[command.index("atelier_platform.cli") + 1:]
        if "--port" in args:
            args[args.index("--port") + 1] = str(HTTP_PORT)
        env = {k: v for k, v in extra.items() if k not in ("ATELIER_PROBE_PORT", "ATELIER_PROBE_HOST")}
        probe = "ATELIER_PROBE_PORT" in extra
        if probe:
            env["ATELIER_PROBE_PORT"] = str(PROBE_PORT)
        http = args[0] in ("serve", "gateway")
        service = args[1] if args[0] in ("serve", "worker") else None
        out.append(Process(name, args, env, http=http, probe=probe, service=service))
    return out


def service_urls(procs: list[Process]) -> dict[str, str]:
    return {p.service: f"http://{p.name}:{HTTP_PORT}" for p in procs if p.http and p.service}


def shared_config(procs: list[Process]) -> dict[str, str]:
    return {
        "ATELIER_BUS": "rabbitmq",
        "ATELIER_AUTO_MIGRATE": "false",
        "ATELIER_SERVICE_URLS": json.dumps(service_urls(procs)),
        "ATELIER_JWKS_URL": f"http://gateway:{HTTP_PORT}/.well-known/jwks.json",
    }


def public_paths() -> list[str]:
    """What the Ingress routes to the gateway: the API, the docs, the JWKS, media files, the
    products' compatibility profiles (`/compat/<profile>/`, their frontends' API) and the staff
    console (`/console`) — not the probes and metrics (`/health`, `/ready`, `/metrics`), which stay
    inside the cluster."""
    return sorted({"/" + prefix.split("/")[1] for prefix in ROUTES}
                  | {"/api", "/.well-known", COMPAT_PATH, CONSOLE_PATH})


def _resources(p: Process | None) -> dict[str, Any]:
    """Requests and limits by kind of process (None: the init container and the migrate job)."""
    if p is None:
        cpu, memory, cpu_max, memory_max = "50m", "128Mi", "500m", "384Mi"
    elif p.http:
        cpu, memory, cpu_max, memory_max = "100m", "256Mi", "1", "512Mi"
    elif p.name == "generation-worker":  # image generation and 12 MP restorations
        cpu, memory, cpu_max, memory_max = "250m", "512Mi", "2", "1536Mi"
    elif p.name.endswith("-worker"):  # outbound webhooks: waiting on receivers, little CPU
        cpu, memory, cpu_max, memory_max = "50m", "192Mi", "500m", "384Mi"
    else:
        cpu, memory, cpu_max, memory_max = "50m", "160Mi", "500m", "384Mi"
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu_max, "memory": memory_max}}


def _probe_command(port: int, path: str) -> list[str]:
    return ["CMD", "python", "-c", f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{port}{path}', timeout=3)"]


# ---------------------------------------------------------------------------------------------- compose

def _autoscaling(p: Process) -> tuple[int, int] | None:
    """(min, max) replicas of a role the HorizontalPodAutoscaler scales, None for a fixed one.

    APIs and the gateway are stateless; consumers compete on their service's one durable queue
    (the inbox applies each event once) and job workers on theirs. Relays stay single: one per
    service publishes far more than a service writes, and several would only share `SKIP LOCKED`.
    """
    if p.http:
        return (2, 10)
    role = p.args[p.args.index("--role") + 1] if "--role" in p.args else None
    if role in ("consumer", "worker"):
        return (1, 4)
    return None


def compose(image: str = DEFAULT_IMAGE) -> str:
    procs = processes()
    build = {"context": "..", "dockerfile": "deploy/Dockerfile"}
    env_file = "${ATELIER_ENV_FILE:-example.env}"
    # Traces: off unless ATELIER_OTEL_EXPORTER=otlp is set for compose; then every process sends
    # spans to the Jaeger of the `tracing` profile (README: Traces and metrics).
    otel = {"ATELIER_OTEL_EXPORTER": "${ATELIER_OTEL_EXPORTER:-none}",
            "ATELIER_OTEL_ENDPOINT": "${ATELIER_OTEL_ENDPOINT:-http://jaeger:4318/v1/traces}"}
    services: dict[str, Any] = {
        "postgres": {"image": "postgres:16-alpine", "env_file": env_file,
                     "volumes": ["postgres:/var/lib/postgresql/data"],
                     "healthcheck": {"test": ["CMD", "pg_isready", "-U", "postgres"], "interval": "2s", "retries": 30}},
        "rabbitmq": {"image": "rabbitmq:3.13-management-alpine", "env_file": env_file,
                     "healthcheck": {"test": ["CMD", "rabbitmq-diagnostics", "-q", "ping"], "interval": "5s",
                                     "retries": 30}},
        "redis": {"image": "redis:7-alpine"},
        "migrate": {"image": image, "build": build, "command": ["migrate"], "env_file": env_file,
                    "environment": shared_config(procs), "volumes": ["data:/data"],
                    "depends_on": {"postgres": {"condition": "service_healthy"},
                                   "rabbitmq": {"condition": "service_healthy"}}},
    }
    for p in procs:
        port = HTTP_PORT if p.http else PROBE_PORT if p.probe else None
        service: dict[str, Any] = {
            "image": image, "build": build, "command": p.args, "restart": "unless-stopped", "env_file": env_file,
            "environment": {**shared_config(procs), **otel, **p.env}, "volumes": ["data:/data"],
            "depends_on": {"migrate": {"condition": "service_completed_successfully"},
                           "rabbitmq": {"condition": "service_healthy"}},
        }
        if port:
            service["healthcheck"] = {"test": _probe_command(port, "/ready"), "interval": "10s", "timeout": "5s",
                                      "retries": 3, "start_period": "60s"}
        if p.name == "gateway":
            service["ports"] = [f"{HTTP_PORT}:{HTTP_PORT}"]
            service["environment"]["ATELIER_GATEWAY_TRUSTED_PROXIES"] = "[]"
            service["environment"]["ATELIER_GATEWAY_COMPAT_PROFILES"] = COMPAT_PROFILES
        services[p.name] = service
    services["jaeger"] = {"image": "jaegertracing/all-in-one:1.62.0", "profiles": ["tracing"],
                          "environment": {"COLLECTOR_OTLP_ENABLED": "true"}, "ports": ["16686:16686"]}
    header = ("# Generated by deploy/render.py from `atelier up`'s topology: do not edit, render again.\n"
              "# docker compose -f deploy/compose.yaml up --build   (gateway on http://localhost:8000)\n"
              "# Every container reads deploy/example.env (development values; another file with\n"
              "# ATELIER_ENV_FILE=…): README, Compose. Generated files and keys live in the `data` volume.\n")
    return header + _dump({"services": services, "volumes": {"data": {}, "postgres": {}}})


# ---------------------------------------------------------------------------------------------- Kubernetes

def _labels(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "atelier"}


def _env_from() -> list[dict[str, Any]]:
    return [{"configMapRef": {"name": "atelier-config"}}, {"secretRef": {"name": SECRET_NAME}}]


def _container_security() -> dict[str, Any]:
    return {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]}}


def _pod_spec(containers: list[dict[str, Any]], init: list[dict[str, Any]] | None = None,
              restart: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "automountServiceAccountToken": False,
        "securityContext": {"runAsNonRoot": True, "runAsUser": UID, "runAsGroup": UID, "fsGroup": UID,
                            "seccompProfile": {"type": "RuntimeDefault"}},
    }
    if restart:
        spec["restartPolicy"] = restart
    if init:
        spec["initContainers"] = init
    # The root filesystem is read-only: the data directory (keys, local files) and /tmp are scratch.
    mounts = [{"name": "data", "mountPath": "/data"}, {"name": "tmp", "mountPath": "/tmp"}]
    for container in [*(init or []), *containers]:
        container["volumeMounts"] = mounts
    spec["containers"] = containers
    spec["volumes"] = [{"name": "data", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}]
    return spec


def _container(name: str, image: str, args: list[str], resources: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "image": image, "imagePullPolicy": "IfNotPresent", "args": args, "envFrom": _env_from(),
            "resources": resources, "securityContext": _container_security()}


def k8s(image: str = DEFAULT_IMAGE, host: str = DEFAULT_HOST, ingress_class: str = "nginx",
        trusted_proxies: list[str] | None = None) -> str:
    procs = processes()
    tag = re.sub(r"[^a-z0-9-]", "-", image.rsplit(":", 1)[-1].lower()).strip("-")
    config = {**shared_config(procs),
              "ATELIER_ENVIRONMENT": "production",
              "ATELIER_DATA_DIR": "/data",
              "ATELIER_PUBLIC_BASE_URL": f"https://{host}",
              "ATELIER_GATEWAY_TRUSTED_PROXIES": json.dumps(trusted_proxies or DEFAULT_TRUSTED_PROXIES),
              "ATELIER_GATEWAY_COMPAT_PROFILES": COMPAT_PROFILES,
              # Several pods serve what a worker writes: files go to an S3-compatible store (README).
              "ATELIER_CATALOG_STORAGE_BACKEND": "s3", "ATELIER_CATALOG_S3_PREFIX": "catalog/",
              "ATELIER_GENERATION_STORAGE_BACKEND": "s3", "ATELIER_GENERATION_S3_PREFIX": "generation/",
              "ATELIER_S3_BUCKET": "atelier", "ATELIER_S3_REGION": "us-east-1"}
    docs: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "atelier-config", "labels": _labels("atelier")},
         "data": config},
        # A new image is a new job (its name carries the tag); the Deployments' init containers
        # wait until their database is at head (`atelier migrate --wait`), with no extra RBAC.
        {"apiVersion": "batch/v1", "kind": "Job",
         "metadata": {"name": f"atelier-migrate-{tag}", "labels": _labels("atelier-migrate")},
         "spec": {"backoffLimit": 10, "template": {
             "metadata": {"labels": _labels("atelier-migrate")},
             "spec": _pod_spec([_container("migrate", image, ["migrate"], _resources(None))], restart="OnFailure")}}},
    ]
    for p in procs:
        container = _container(p.name, image, p.args, _resources(p))
        if p.env:
            container["env"] = [{"name": k, "value": v} for k, v in p.env.items()]
        port = HTTP_PORT if p.http else PROBE_PORT if p.probe else None
        if port:
            container["ports"] = [{"name": "http" if p.http else "probe", "containerPort": port}]
            container["startupProbe"] = {"httpGet": {"path": "/health", "port": port}, "periodSeconds": 2,
                                         "failureThreshold": 60}
            container["livenessProbe"] = {"httpGet": {"path": "/health", "port": port}, "periodSeconds": 10,
                                          "timeoutSeconds": 3, "failureThreshold": 3}
            container["readinessProbe"] = {"httpGet": {"path": "/ready", "port": port}, "periodSeconds": 5,
                                           "timeoutSeconds": 3, "failureThreshold": 2}
        init = None
        if p.service:
            init = [_container("wait-for-migrations", image,
                               ["migrate", "--wait", "--service", p.service, "--timeout", "600"], _resources(None))]
        pod_labels = {**_labels(p.name), "app": p.name}
        annotations = {"prometheus.io/scrape": "true", "prometheus.io/port": str(port), "prometheus.io/path": "/metrics"}
        scaling = _autoscaling(p)
        spec: dict[str, Any] = {"selector": {"matchLabels": {"app": p.name}},
                                "template": {"metadata": {"labels": pod_labels, **({"annotations": annotations} if port else {})},
                                             "spec": _pod_spec([container], init)}}
        if scaling is None:
            spec = {"replicas": 1, **spec}
        docs.append({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": p.name, "labels": _labels(p.name)},
                     "spec": spec})
        if scaling is not None:
            # The autoscaler owns the replica count (the Deployment leaves it out, so that applying the
            # manifest again does not reset it); CPU is what bounds every one of these roles.
            low, high = scaling
            docs.append({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                         "metadata": {"name": p.name, "labels": _labels(p.name)},
                         "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": p.name},
                                  "minReplicas": low, "maxReplicas": high,
                                  "metrics": [{"type": "Resource", "resource": {
                                      "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]}})
        if p.http:
            docs.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": p.name, "labels": _labels(p.name)},
                         "spec": {"selector": {"app": p.name},
                                  "ports": [{"name": "http", "port": HTTP_PORT, "targetPort": "http"}]}})
            # A drain or an upgrade of the nodes keeps one replica of every API serving.
            docs.append({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                         "metadata": {"name": p.name, "labels": _labels(p.name)},
                         "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": p.name}}}})
    docs.append({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                 "metadata": {"name": "atelier", "labels": _labels("atelier"), "annotations": {
                     # uploads up to 10 MiB; server-sent events (job progress) stay open for minutes
                     "nginx.ingress.kubernetes.io/proxy-body-size": "11m",
                     "nginx.ingress.kubernetes.io/proxy-read-timeout": "620",
                     "nginx.ingress.kubernetes.io/proxy-buffering": "off"}},
                 "spec": {"ingressClassName": ingress_class,
                          "tls": [{"hosts": [host], "secretName": "atelier-tls"}],
                          "rules": [{"host": host, "http": {"paths": [
                              {"path": path, "pathType": "Prefix",
                               "backend": {"service": {"name": "gateway", "port": {"name": "http"}}}}
                              for path in public_paths()]}}]}})
    header = ("# Generated by deploy/render.py from `atelier up`'s topology: do not edit, render again.\n"
              f"# Needs the Secret `{SECRET_NAME}` first (README, Kubernetes): PostgreSQL, RabbitMQ, Redis and\n"
              "# S3 URLs and credentials, and what `atelier secrets` generates. Then:\n"
              "#   kubectl apply -f deploy/k8s/atelier.yaml\n")
    return header + "\n---\n".join(_dump(doc) for doc in docs)


class _Dumper(yaml.SafeDumper):
    """Block style, lists of plain values on one line, no anchors for repeated values."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _list(dumper: yaml.SafeDumper, items: list[Any]) -> yaml.Node:
    flow = all(isinstance(item, str | int | float) for item in items)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=flow)


_Dumper.add_representer(list, _list)


def _dump(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=120, allow_unicode=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image", default=DEFAULT_IMAGE, help=f"image and pinned tag (default {DEFAULT_IMAGE})")
    parser.add_argument("--host", default=DEFAULT_HOST, help="the Ingress host and public base URL")
    parser.add_argument("--ingress-class", default="nginx")
    parser.add_argument("--trusted-proxies", default=",".join(DEFAULT_TRUSTED_PROXIES),
                        help="CIDRs of the Ingress controller's pods, comma-separated")
    args = parser.parse_args()
    if args.image.endswith(":latest") or ":" not in args.image.rsplit("/", 1)[-1]:
        parser.error("pin the image to a tag (REPO:TAG), not latest")
    (HERE / "compose.yaml").write_text(compose(args.image))
    (HERE / "k8s" / "atelier.yaml").write_text(k8s(args.image, args.host, args.ingress_class,
                                                    args.trusted_proxies.split(",")))
    print("wrote deploy/compose.yaml and deploy/k8s/atelier.yaml")


if __name__ == "__main__":
    main()

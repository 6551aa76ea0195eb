"""Writes compose.yaml, the Helm chart's files/topology.yaml and k8s/ from the platform's
own process topology; `--check` (make chart-check) lints the chart and validates what it renders.

    uv run python deploy/render.py [--image REPO:TAG] [--check]

The processes are exactly those `atelier up` starts (`atelier_platform.processes.Topology`): each
gets a compose service and, through the chart (deploy/helm/atelier, which iterates over
files/topology.yaml), a Kubernetes Deployment with the same `atelier` command, so a role added there
is deployed by the next render. k8s/atelier.yaml is the chart rendered with its default values by
Helm's own Go library (the helm-python-sdk package: no helm binary), as on a cluster without the
Prometheus Operator; k8s/monitoring.yaml what the chart adds where the cluster serves its API. HTTP processes (`atelier serve`,
`atelier gateway`) serve the API, /health and /ready on port 8000; the others serve /health and
/ready on ATELIER_PROBE_PORT. libs/platform/tests/test_deploy.py checks the committed files are up
to date.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from atelier_common.db import pool_for_roles
from atelier_gateway.console import CONSOLE_PATH
from atelier_gateway.routing import ROUTES
from atelier_platform.processes import Topology

if TYPE_CHECKING:
    import helm_python  # loads Helm's native library: imported where a chart is rendered

HERE = Path(__file__).parent
VERSION = tomllib.loads((HERE.parent / "pyproject.toml").read_text())["project"]["version"]
# Pinned: the workspace's version; a release renders with its own tag (`--image`).
DEFAULT_IMAGE = f"atelier:{VERSION}"
HTTP_PORT = 8000
PROBE_PORT = 9000
# Every product's compatibility profile, at /compat/<profile>/ (docs/compat.md).
COMPAT_PATH = "/compat"
COMPAT_PROFILES = '["all"]'

# Values that are no secret. Everything secret — the connection URLs (they carry passwords) and
# what production requires (`atelier secrets`) — comes from the env file (compose) or existing
# Secrets (the chart's `secrets` and `*.url` values; docs/deploy.md, Secrets). Who may name the client in
# X-Forwarded-For, the host and the rest of Kubernetes' settings are the chart's values.
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
    """What the Ingress routes to the gateway: the API, the docs, the JWKS, media files and the
    products' compatibility profiles (`/compat/<profile>/`, their frontends' API), the staff console — not the probes
    and metrics (`/health`, `/ready`, `/metrics`), which stay inside the cluster."""
    return sorted({"/" + prefix.split("/")[1] for prefix in ROUTES} | {"/api", "/.well-known", COMPAT_PATH, CONSOLE_PATH})


def _probe_command(port: int, path: str) -> list[str]:
    return ["CMD", "python", "-c", f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{port}{path}', timeout=3)"]


# ---------------------------------------------------------------------------------------------- compose

def compose(image: str = DEFAULT_IMAGE) -> str:
    procs = processes()
    build = {"context": "..", "dockerfile": "deploy/Dockerfile"}
    env_file = "${ATELIER_ENV_FILE:-example.env}"
    # Traces: off unless ATELIER_OTEL_EXPORTER=otlp is set for compose; then every process sends
    # spans to the Jaeger of the `tracing` profile (docs/operations.md: Traces, logs and metrics).
    # Jaeger takes traces only: metrics stay with /metrics unless ATELIER_OTEL_METRICS=true and the
    # endpoint is a collector that takes them.
    otel = {"ATELIER_OTEL_EXPORTER": "${ATELIER_OTEL_EXPORTER:-none}",
            "ATELIER_OTEL_ENDPOINT": "${ATELIER_OTEL_ENDPOINT:-http://jaeger:4318/v1/traces}",
            "ATELIER_OTEL_METRICS": "${ATELIER_OTEL_METRICS:-false}"}
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
              "# ATELIER_ENV_FILE=…): docs/deploy.md, Compose. Generated files and keys live in the `data` volume.\n")
    return header + _dump({"services": services, "volumes": {"data": {}, "postgres": {}}})


# ---------------------------------------------------------------------------------------------- Kubernetes

CHART = HERE / "helm" / "atelier"
TOPOLOGY = CHART / "files" / "topology.yaml"
RELEASE = "atelier"


def _kind(p: Process) -> str:
    """The chart's kind of a process: it picks the replicas, autoscaling bounds and resources."""
    if p.name == "gateway":
        return "gateway"
    if p.http:
        return "api"
    return p.args[p.args.index("--role") + 1] if "--role" in p.args else "other"


def _connections(p: Process) -> int:
    """The most PostgreSQL connections one pod of the process holds (`db.pool_for_roles`)."""
    if p.service is None:
        return 0
    kind = _kind(p)
    workers = int(p.args[p.args.index("--workers") + 1]) if "--workers" in p.args else 1
    return workers * sum(pool_for_roles([kind]))


def topology() -> str:
    """The chart's files/topology.yaml: what `atelier up` starts, as the templates iterate over it."""
    procs = processes()
    data = {
        "config": shared_config(procs),
        "publicPaths": public_paths(),
        "processes": [{"name": p.name, "kind": _kind(p), "service": p.service, "args": p.args, "env": p.env,
                       "http": p.http, "port": HTTP_PORT if p.http else PROBE_PORT if p.probe else None,
                       "connections": _connections(p)} for p in procs],
    }
    header = ("# Generated by deploy/render.py from `atelier up`'s topology: do not edit, render again.\n"
              "# The chart's templates deploy each process; values.yaml sets replicas, resources and the rest.\n")
    return header + _dump(data)


# The Prometheus Operator's API: the chart renders its ServiceMonitor, PodMonitor and PrometheusRule
# only where the cluster serves it (`.Capabilities.APIVersions`), so an install elsewhere does not fail.
MONITORING_API = "monitoring.coreos.com/v1"


def _helm_templates(values: dict[str, Any] | None, chart: Path, api_versions: Sequence[str]) -> dict[str, str]:
    """Every template of the chart rendered offline by Helm's own library (helm-python-sdk), by path.
    `api_versions`: what the cluster serves beyond Kubernetes' own, as `helm template --api-versions`."""
    import helm_python

    helm_python.disable_logging()
    with helm_python.Chart.load(chart) as loaded:
        return render_with_api_versions(loaded, values, name=RELEASE, namespace="atelier", api_versions=api_versions)


def render_with_api_versions(chart: helm_python.Chart, values: dict[str, Any] | None, *, name: str, namespace: str,
                             api_versions: Sequence[str]) -> dict[str, str]:
    """`chart.render(values, name=, namespace=)` that also passes `api_versions`: the only read of
    helm-python-sdk's private API. Its public `Chart.render` has no `api_versions` (0.2.2, the
    newest), which the monitoring objects need; the C function it wraps, `helm_render`, takes
    them in its options. libs/platform/tests/test_deploy.py pins what this reads (its canary,
    `test_the_helm_seam_…`): after an upgrade that changed it, that test names what moved. Use
    `chart.render` here once it takes `api_versions`."""
    from helm_python import _native

    options = {"name": name, "namespace": namespace, "api_versions": list(api_versions)}
    rendered: dict[str, str] = json.loads(_native.call_string(
        "helm_render", chart._raw(), json.dumps(values) if values is not None else None, json.dumps(options)))
    return rendered


def helm_render(values: dict[str, Any] | None = None, chart: Path = CHART,
                api_versions: Sequence[str] = ()) -> list[tuple[str, str]]:
    """The chart's manifests: (template, manifest) in template order, empty documents left out."""
    out = []
    for template, text in sorted(_helm_templates(values, chart, api_versions).items()):
        if template.endswith(".txt"):
            continue
        out.extend((template, doc.strip() + "\n") for doc in text.split("\n---") if yaml.safe_load(doc))
    return out


def helm_notes(values: dict[str, Any] | None = None, api_versions: Sequence[str] = ()) -> str:
    """What `helm install` prints (templates/NOTES.txt): the processes and the connection budget."""
    return _helm_templates(values, CHART, api_versions)[f"{RELEASE}/templates/NOTES.txt"].strip()


def helm_lint(values: dict[str, Any] | None = None, chart: Path = CHART) -> list[str]:
    """`helm lint --strict` (Kubernetes 1.30): its warnings and errors, empty when clean."""
    import helm_python

    helm_python.disable_logging()
    report = helm_python.lint(chart, values, strict=True, kube_version="v1.30.0")
    return [f"{m['path']}: {m['error']}" for m in report["messages"] if m["severity"] >= 2] + list(report["errors"])


def k8s(values: dict[str, Any] | None = None) -> str:
    """k8s/atelier.yaml: the chart as on a cluster without the Prometheus Operator (applies anywhere)."""
    header = ("# Rendered by deploy/render.py from the Helm chart deploy/helm/atelier with its default values:\n"
              "# do not edit, render again. Prefer the chart itself (helm install atelier deploy/helm/atelier).\n"
              f"# Needs the Secret `{SECRET_NAME}` first (docs/deploy.md, Kubernetes): PostgreSQL, RabbitMQ, Redis\n"
              "# and S3 URLs and credentials, and what `atelier secrets` generates. Then:\n"
              "#   kubectl apply -f deploy/k8s/atelier.yaml\n"
              "# and, where the cluster runs the Prometheus Operator, deploy/k8s/monitoring.yaml.\n")
    return header + "---\n".join(f"# Source: {template}\n{doc}" for template, doc in helm_render(values))


def k8s_monitoring(values: dict[str, Any] | None = None) -> str:
    """k8s/monitoring.yaml: what the chart adds where the cluster serves the Prometheus Operator's API."""
    header = ("# Rendered by deploy/render.py from the Helm chart deploy/helm/atelier with its default values, for a\n"
              f"# cluster that serves {MONITORING_API} (the Prometheus Operator's CRDs): do not edit, render\n"
              "# again. The ServiceMonitor, PodMonitor and PrometheusRule of deploy/k8s/atelier.yaml's processes:\n"
              "#   kubectl apply -f deploy/k8s/monitoring.yaml\n")
    plain = set(helm_render(values))
    added = [(template, doc) for template, doc in helm_render(values, api_versions=[MONITORING_API])
             if (template, doc) not in plain]
    return header + "---\n".join(f"# Source: {template}\n{doc}" for template, doc in added)


K8S = {HERE / "k8s" / "atelier.yaml": k8s, HERE / "k8s" / "monitoring.yaml": k8s_monitoring}


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
    parser.add_argument("--image", default=DEFAULT_IMAGE, help=f"compose's image and pinned tag (default {DEFAULT_IMAGE})")
    parser.add_argument("--check", action="store_true",
                        help="lint the chart and validate what it renders (make chart-check) instead of writing")
    args = parser.parse_args()
    if args.image.endswith(":latest") or ":" not in args.image.rsplit("/", 1)[-1]:
        parser.error("pin the image to a tag (REPO:TAG), not latest")
    if args.check:
        sys.exit(check())
    (HERE / "compose.yaml").write_text(compose(args.image))
    TOPOLOGY.write_text(topology())
    for path, manifests in K8S.items():
        path.write_text(manifests())
    print("wrote deploy/compose.yaml, deploy/helm/atelier/files/topology.yaml, deploy/k8s/atelier.yaml and "
          "deploy/k8s/monitoring.yaml")


def check() -> int:
    """`make chart-check`: helm lint --strict, then every rendered manifest through kubernetes-validate
    (Kubernetes 1.30, strict), as on a cluster without the Prometheus Operator; with its API the chart
    must add exactly its ServiceMonitor, PodMonitor and PrometheusRule."""
    import kubernetes_validate

    problems = helm_lint()
    expected = {TOPOLOGY: topology(), **{path: manifests() for path, manifests in K8S.items()}}
    stale = [name for name, text in expected.items() if not name.exists() or name.read_text() != text]
    problems += [f"{name.relative_to(HERE.parent)} is stale: run uv run python deploy/render.py" for name in stale]
    count = 0
    plain = helm_render()
    for template, text in plain:
        doc = yaml.safe_load(text)
        if doc["apiVersion"].startswith("monitoring.coreos.com/"):
            problems.append(f"{template}: {doc['kind']} renders on a cluster without {MONITORING_API}")
            continue
        try:
            kubernetes_validate.validate(doc, "1.30", strict=True)
            count += 1
        except kubernetes_validate.ValidationError as error:
            problems.append(f"{template} {doc['kind']}/{doc['metadata']['name']}: {error}")
    # Where the cluster has the Prometheus Operator, its objects come in addition (checked for their
    # metrics by test_deploy.py: kubernetes-validate has no schema for them).
    operator = {yaml.safe_load(text)["kind"] for _, text in helm_render(api_versions=[MONITORING_API])} \
        - {yaml.safe_load(text)["kind"] for _, text in plain}
    if operator != {"ServiceMonitor", "PodMonitor", "PrometheusRule"}:
        problems.append(f"with {MONITORING_API} the chart adds {sorted(operator)}, not its three monitoring objects")
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"chart lints clean; {count} rendered manifests valid for Kubernetes 1.30\n{helm_notes()}")
    return 1 if problems else 0


if __name__ == "__main__":
    main()

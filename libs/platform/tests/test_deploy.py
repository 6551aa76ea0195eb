"""deploy/: the committed manifests are rendered from `atelier up`'s topology (Kubernetes' through the
Helm chart deploy/helm/atelier), valid for Kubernetes 1.30 and for compose, and keep every secret out of
ConfigMaps and plain environment values. The chart lints clean, refuses autoscaler maxima that could
exhaust PostgreSQL's connections, rolls pods on a config change, and alerts and charts on metrics the
code really exports."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import kubernetes_validate
import pytest
import yaml
from typer.testing import CliRunner

from atelier_gateway.settings import SERVICES, GatewaySettings
from atelier_platform.cli import app
from atelier_platform.embedded import settings_class
from atelier_platform.processes import Topology
from atelier_platform.production import REQUIRED_SECRETS

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"


@pytest.fixture(scope="module")
def k8s_docs() -> list[dict[str, Any]]:
    """Everything deploy/k8s/ applies on a cluster with the Prometheus Operator (its objects in monitoring.yaml)."""
    return [doc for name in ("atelier.yaml", "monitoring.yaml")
            for doc in yaml.safe_load_all((DEPLOY / "k8s" / name).read_text()) if doc]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return data


def _of_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers: list[dict[str, Any]] = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def _up_processes() -> dict[str, tuple[list[str], dict[str, str]]]:
    """What `atelier up` starts: name → (the `atelier` arguments, the process's own variables)."""
    topology = Topology(postgres="postgresql://pg", amqp="amqp://mq", probe_base_port=9300)
    out = {}
    for name, command, extra in topology.commands():
        assert command[:3] == [sys.executable, "-m", "atelier_platform.cli"]
        out[name] = (command[3:], extra)
    return out


def _same_command(rendered: list[str], up: list[str]) -> bool:
    """Equal but for the values of --host and --port (this machine's, or the container's)."""
    if len(rendered) != len(up):
        return False
    return all(a == b or (i > 0 and up[i - 1] in ("--host", "--port")) for i, (a, b) in enumerate(zip(rendered, up, strict=True)))


def test_the_committed_files_are_rendered_from_the_topology(render: ModuleType) -> None:
    assert (DEPLOY / "compose.yaml").read_text() == render.compose(), "run: uv run python deploy/render.py"
    assert render.TOPOLOGY.read_text() == render.topology(), "run: uv run python deploy/render.py"
    assert (DEPLOY / "k8s" / "atelier.yaml").read_text() == render.k8s(), "run: uv run python deploy/render.py"
    assert (DEPLOY / "k8s" / "monitoring.yaml").read_text() == render.k8s_monitoring(), \
        "run: uv run python deploy/render.py"


def test_the_chart_lints_clean_and_make_chart_check_passes(render: ModuleType, tmp_path: Path) -> None:
    assert render.helm_lint() == []
    assert render.check() == 0
    # The lint is Helm's own: a template that does not parse fails it.
    chart = tmp_path / "atelier"
    shutil.copytree(render.CHART, chart)
    ingress = chart / "templates" / "ingress.yaml"
    ingress.write_text(ingress.read_text().rsplit("{{- end }}", 1)[0])
    assert any("parse error" in problem for problem in render.helm_lint(chart=chart))


OPERATOR_KINDS = {"ServiceMonitor", "PodMonitor", "PrometheusRule"}  # no schema in kubernetes-validate


def test_every_kubernetes_document_is_valid_for_1_30(k8s_docs: list[dict[str, Any]]) -> None:
    for doc in k8s_docs:
        if doc["kind"] in OPERATOR_KINDS:
            assert doc["apiVersion"] == "monitoring.coreos.com/v1"
            continue
        kubernetes_validate.validate(doc, "1.30", strict=True)  # raises on an unknown or mistyped field
    kinds = {doc["kind"] for doc in k8s_docs}
    assert kinds == {"ConfigMap", "Job", "Deployment", "Service", "PodDisruptionBudget", "Ingress",
                     "HorizontalPodAutoscaler", *OPERATOR_KINDS}


def test_the_monitoring_objects_render_only_where_the_cluster_has_their_api(render: ModuleType) -> None:
    """`helm install` on a cluster without the Prometheus Operator must not fail on its kinds."""
    def kinds(api_versions: list[str]) -> set[str]:
        return {yaml.safe_load(text)["kind"] for _, text in render.helm_render(api_versions=api_versions)}

    without, with_api = kinds([]), kinds(["monitoring.coreos.com/v1"])
    assert not without & OPERATOR_KINDS
    assert with_api - without == OPERATOR_KINDS
    assert "ConfigMap" in without  # the rest (the Grafana dashboards included) renders either way
    plain = (DEPLOY / "k8s" / "atelier.yaml").read_text()
    assert not {kind for kind in OPERATOR_KINDS if f"kind: {kind}" in plain}
    # Switched off in the values, they stay out even where the API is.
    off = {"monitoring": {"serviceMonitor": {"enabled": False}, "prometheusRule": {"enabled": False}}}
    rendered = {yaml.safe_load(text)["kind"] for _, text in render.helm_render(off, api_versions=["monitoring.coreos.com/v1"])}
    assert not rendered & OPERATOR_KINDS


def test_apis_gateway_consumers_and_workers_scale_out(k8s_docs: list[dict[str, Any]]) -> None:
    deployments, scalers = _of_kind(k8s_docs, "Deployment"), _of_kind(k8s_docs, "HorizontalPodAutoscaler")
    scaled = {name for name in deployments
              if name == "gateway" or name.endswith(("-api", "-consumer", "-worker"))}
    assert set(scalers) == scaled and {"generation-worker", "identity-worker"} <= scaled
    for name, scaler in scalers.items():
        assert scaler["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert scaler["spec"]["minReplicas"] == (2 if name == "gateway" or name.endswith("-api") else 1)
        assert "replicas" not in deployments[name]["spec"], name  # the autoscaler owns the count
    for name in set(deployments) - scaled:  # relays (and any other fixed role) stay at one
        assert deployments[name]["spec"]["replicas"] == 1, name


def test_a_wrong_field_fails_the_schema_check(k8s_docs: list[dict[str, Any]]) -> None:
    """The validator is strict: the check above would catch a typo."""
    deployment = json.loads(json.dumps(next(d for d in k8s_docs if d["kind"] == "Deployment")))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, "1.30", strict=True)


def test_compose_config_passes_on_a_clean_clone(tmp_path: Path) -> None:
    binary = shutil.which("docker-compose")
    if binary is None:
        message = "docker-compose is not installed (apt-get install -y docker-compose)"
        if os.environ.get("ATELIER_REQUIRE_INFRA") == "1":
            pytest.fail(message)
        pytest.skip(message)
    clone = tmp_path / "deploy"
    clone.mkdir()
    for name in ("compose.yaml", "example.env", "Dockerfile"):  # what git holds; no deploy/.env
        shutil.copy(DEPLOY / name, clone / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ATELIER_", "COMPOSE_"))}
    result = subprocess.run([binary, "-f", str(clone / "compose.yaml"), "config", "-q"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    missing = subprocess.run([binary, "-f", str(clone / "compose.yaml"), "config", "-q"],
                             env={**env, "ATELIER_ENV_FILE": "production.env"}, capture_output=True, text=True,
                             timeout=120)
    assert missing.returncode != 0 and "production.env" in missing.stderr  # it really reads the env file


def test_every_process_atelier_up_starts_is_deployed_with_the_same_command(
        k8s_docs: list[dict[str, Any]], compose: dict[str, Any]) -> None:
    deployments = _of_kind(k8s_docs, "Deployment")
    services = compose["services"]
    up = _up_processes()
    assert set(deployments) == set(up)
    for name, (command, extra) in up.items():
        container = _container(deployments[name])
        assert _same_command(container["args"], command), (name, container["args"], command)
        assert _same_command(services[name]["command"], command), (name, services[name]["command"], command)
        own = {k: v for k, v in extra.items() if k not in ("ATELIER_PROBE_PORT", "ATELIER_PROBE_HOST")}
        env = {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}
        assert own.items() <= env.items() and own.items() <= services[name]["environment"].items(), name


def _chart_with_current_topology(render: ModuleType, tmp_path: Path) -> Path:
    chart = tmp_path / "atelier"
    shutil.copytree(render.CHART, chart)
    (chart / "files" / "topology.yaml").write_text(render.topology())
    return chart


def test_a_role_added_to_the_topology_is_deployed_without_editing_render(
        render: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    commands = Topology.commands

    def with_housekeeping(self: Topology) -> list[tuple[str, list[str], dict[str, str]]]:
        out = commands(self)
        cli = out[0][1][:3]
        extra = {"ATELIER_PROBE_PORT": "1"} if self.probe_base_port else {}
        return [*out, ("catalog-thumbnailer", [*cli, "worker", "catalog", "--role", "thumbnailer"], extra)]

    monkeypatch.setattr(Topology, "commands", with_housekeeping)
    chart = _chart_with_current_topology(render, tmp_path)
    docs = [yaml.safe_load(text) for _, text in render.helm_render(chart=chart)]
    deployment = _of_kind(docs, "Deployment")["catalog-thumbnailer"]
    container = _container(deployment)
    assert container["args"] == ["worker", "catalog", "--role", "thumbnailer"]
    assert container["livenessProbe"]["httpGet"] == {"path": "/health", "port": 9000}
    init = deployment["spec"]["template"]["spec"]["initContainers"][0]
    assert init["args"] == ["migrate", "--wait", "--service", "catalog", "--timeout", "600"]
    service = yaml.safe_load(render.compose())["services"]["catalog-thumbnailer"]
    assert service["command"] == ["worker", "catalog", "--role", "thumbnailer"]


def test_probes_hit_what_each_process_serves(k8s_docs: list[dict[str, Any]]) -> None:
    up = _up_processes()
    for name, deployment in _of_kind(k8s_docs, "Deployment").items():
        container = _container(deployment)
        http = up[name][0][0] in ("serve", "gateway")
        port = 8000 if http else 9000
        assert container["livenessProbe"]["httpGet"] == {"path": "/health", "port": port}, name
        assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": port}, name
        if http:
            assert f"--port {port}" in " ".join(container["args"]), name
        else:  # relay, consumer, worker: the probe listener (atelier_common.health)
            assert {"name": "ATELIER_PROBE_PORT", "value": str(port)} in container["env"], name


def test_deployments_wait_for_migrations_and_run_as_a_limited_user(k8s_docs: list[dict[str, Any]]) -> None:
    jobs = _of_kind(k8s_docs, "Job")
    assert len(jobs) == 1 and _container(next(iter(jobs.values())))["args"] == ["migrate"]
    for name, deployment in _of_kind(k8s_docs, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
        for container in [*pod.get("initContainers", []), *pod["containers"]]:
            assert container["image"].split(":")[-1] not in ("", "latest"), name
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert {"requests", "limits"} <= container["resources"].keys()
        if name != "gateway":  # every service process waits for its own database
            (init,) = pod["initContainers"]
            service = name.split("-")[0]
            assert init["args"][:4] == ["migrate", "--wait", "--service", service], name
    # Two replicas of every HTTP process, each with a budget and a Service; the Ingress reaches the gateway.
    budgets, services = _of_kind(k8s_docs, "PodDisruptionBudget"), _of_kind(k8s_docs, "Service")
    assert set(budgets) == set(services) == {f"{s}-api" for s in SERVICES} | {"gateway"}
    (ingress,) = _of_kind(k8s_docs, "Ingress").values()
    paths = ingress["spec"]["rules"][0]["http"]["paths"]
    assert {p["backend"]["service"]["name"] for p in paths} == {"gateway"}
    # Every public route, the docs and the JWKS go out; the probes and metrics stay inside.
    public = [p["path"] for p in paths]
    from atelier_gateway.routing import ROUTES

    for route in [*ROUTES, "/api/docs", "/api/schema", "/.well-known/jwks.json"]:
        assert any(route == p or route.startswith(p + "/") for p in public), route
    assert not any(p in ("/", "/health", "/ready", "/metrics") for p in public)


def _settings_classes() -> list[Any]:
    return [GatewaySettings, *(settings_class(s) for s in SERVICES)]


def _secret_variables() -> set[str]:
    """Every variable naming a secret field of any process's settings (service and shared prefix)."""
    names: set[str] = set(REQUIRED_SECRETS)
    for cls in _settings_classes():
        prefix = cls.model_config["env_prefix"]
        fields = set(cls.model_construct().secret_fields()) | {spec.split(".")[0] for spec in cls.generated_secrets}
        fields |= {f for f in cls.model_fields if re.search(r"secret|password|token$|_pem$|api_key", f)}
        names |= {f"{prefix}{f.upper()}" for f in fields} | {f"ATELIER_{f.upper()}" for f in fields}
    return names


SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASS$|TOKEN|_PEM$|API_KEY|ACCESS_KEY|POSTGRES_SERVER_URL|DATABASE_URL|"
                         r"AMQP_URL|REDIS_URL")
CREDENTIALS_IN_URL = re.compile(r"://[^/@\s]*:[^/@\s]*@")


def test_no_secret_sits_in_a_configmap_or_a_plain_environment_value(
        k8s_docs: list[dict[str, Any]], compose: dict[str, Any]) -> None:
    plain: dict[str, str] = dict(_of_kind(k8s_docs, "ConfigMap")["atelier-config"]["data"])
    for deployment in _of_kind(k8s_docs, "Deployment").values():
        for container in [*deployment["spec"]["template"]["spec"].get("initContainers", []),
                          *deployment["spec"]["template"]["spec"]["containers"]]:
            assert {"secretRef": {"name": "atelier-secrets"}} in container["envFrom"]
            plain.update({e["name"]: e["value"] for e in container.get("env", []) if "value" in e})
            for e in container.get("env", []):  # the connection URLs: from a Secret's key, never a value
                assert "value" in e or set(e["valueFrom"]) == {"secretKeyRef"}, e
    for service in compose["services"].values():
        plain.update({k: str(v) for k, v in (service.get("environment") or {}).items()})
    secret_variables = _secret_variables()
    assert "ATELIER_GENERATION_URL_SIGNING_SECRET" in secret_variables
    for name, value in plain.items():
        assert name not in secret_variables and not SECRET_NAME.search(name), name
        assert not CREDENTIALS_IN_URL.search(value), name


def _generated_secrets() -> dict[str, str]:
    result = CliRunner().invoke(app, ["secrets"])
    assert result.exit_code == 0
    lines = [line for line in result.output.splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def _production_env(k8s_docs: list[dict[str, Any]]) -> dict[str, str]:
    """The ConfigMap, `atelier secrets`, and what the operator adds to the Secret (docs/deploy.md)."""
    return {**_of_kind(k8s_docs, "ConfigMap")["atelier-config"]["data"], **_generated_secrets(),
            "ATELIER_POSTGRES_SERVER_URL": "postgresql://atelier:pw@postgres:5432",
            "ATELIER_AMQP_URL": "amqp://atelier:pw@rabbitmq:5672/", "ATELIER_REDIS_URL": "redis://redis:6379/0",
            "ATELIER_S3_ACCESS_KEY_ID": "key-id", "ATELIER_S3_SECRET_ACCESS_KEY": "key-secret"}


def _start_all(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("ATELIER_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for cls in _settings_classes():
        settings = cls()
        assert settings.environment == "production" and settings.bus == "rabbitmq"


def test_the_configmap_and_the_generated_secrets_start_every_process_in_production(
        k8s_docs: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    from atelier_common.keys import SigningKey

    env = _production_env(k8s_docs)
    assert set(REQUIRED_SECRETS) <= env.keys()
    _start_all(env, monkeypatch)
    generation, payments = settings_class("generation")(), settings_class("payments")()
    assert generation.url_signing_secret == env["ATELIER_GENERATION_URL_SIGNING_SECRET"]
    assert generation.storage_backend == "s3" and generation.s3_bucket
    assert payments.local_webhook_secret == json.loads(env["ATELIER_PAYMENTS_WEBHOOK_SECRETS"])["local"]
    identity = settings_class("identity")()
    SigningKey.from_pem(identity.signing_key_pem)
    SigningKey.from_pem(GatewaySettings().anon_signing_key_pem or "")


@pytest.mark.parametrize("missing", sorted(REQUIRED_SECRETS))
def test_production_refuses_to_start_without_each_required_secret(
        missing: str, k8s_docs: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    env = _production_env(k8s_docs)
    del env[missing]
    field = re.sub(r"^ATELIER_(GATEWAY_|IDENTITY_|GENERATION_|PAYMENTS_)?", "", missing).lower()
    with pytest.raises(ValueError, match=re.escape(field)):  # e.g. "url_signing_secret must be set in production"
        _start_all(env, monkeypatch)


def test_the_deploy_guide_names_every_required_secret() -> None:
    guide = (ROOT / "docs" / "deploy.md").read_text()
    for name in REQUIRED_SECRETS:
        assert f"`{name}`" in guide, name


def test_the_build_context_leaves_out_environments_data_and_keys() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {"**/.venv", "**/.atelier", "**/__pycache__", "**/*.pem", "**/*.secret", ".git"} <= ignored


def test_the_gateway_knows_which_proxies_may_name_the_client(k8s_docs: list[dict[str, Any]],
                                                             compose: dict[str, Any], monkeypatch, tmp_path) -> None:
    from atelier_gateway.settings import GatewaySettings

    def trusted(value: str) -> list[str]:
        monkeypatch.setenv("ATELIER_GATEWAY_TRUSTED_PROXIES", value)
        return [str(n) for n in GatewaySettings(data_dir=tmp_path).trusted_proxies]

    # Kubernetes: the Ingress controller's pods; compose publishes the gateway itself (no proxy).
    assert trusted(_of_kind(k8s_docs, "ConfigMap")["atelier-config"]["data"]["ATELIER_GATEWAY_TRUSTED_PROXIES"]) \
        == ["10.0.0.0/8"]
    assert trusted(compose["services"]["gateway"]["environment"]["ATELIER_GATEWAY_TRUSTED_PROXIES"]) == []


def test_every_deployment_serves_the_products_compatibility_profiles(
        k8s_docs: list[dict[str, Any]], compose: dict[str, Any], monkeypatch, tmp_path) -> None:
    """A product's frontend reaches its profile at /compat/<profile>/ in compose and in Kubernetes."""
    import atelier_compat

    def mounted(value: str) -> set[str]:
        monkeypatch.setenv("ATELIER_GATEWAY_COMPAT_PROFILES", value)
        mount = atelier_compat.mount(GatewaySettings(data_dir=tmp_path))
        return set(mount.profiles) if mount is not None else set()

    every = set(atelier_compat.PROFILE_NAMES)
    assert mounted(_of_kind(k8s_docs, "ConfigMap")["atelier-config"]["data"]["ATELIER_GATEWAY_COMPAT_PROFILES"]) == every
    assert mounted(compose["services"]["gateway"]["environment"]["ATELIER_GATEWAY_COMPAT_PROFILES"]) == every
    (ingress,) = _of_kind(k8s_docs, "Ingress").values()
    public = [p["path"] for p in ingress["spec"]["rules"][0]["http"]["paths"]]
    for name in every:
        assert any(f"/compat/{name}/api/v1/products".startswith(p + "/") for p in public), name


def test_every_deployment_serves_the_staff_console(k8s_docs: list[dict[str, Any]], compose: dict[str, Any]) -> None:
    """Staff reach the console at /console, and its files under /console/static, in Kubernetes
    (the Ingress) and in compose (the gateway is published as it is)."""
    from atelier_gateway.console import CONSOLE_PATH

    (ingress,) = _of_kind(k8s_docs, "Ingress").values()
    public = [p["path"] for p in ingress["spec"]["rules"][0]["http"]["paths"]]
    for path in (CONSOLE_PATH, f"{CONSOLE_PATH}/static/app.js"):
        assert any(path == p or path.startswith(p + "/") for p in public), path
    gateway = compose["services"]["gateway"]
    assert gateway["ports"] and gateway["command"][0] == "gateway"


# ---------------------------------------------------------------------------------------------- the Helm chart

def _rendered(render: ModuleType, values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return [yaml.safe_load(text) for _, text in render.helm_render(values)]


def _connections(docs: list[dict[str, Any]], topology: dict[str, Any]) -> int:
    """What the rendered autoscalers and replica counts let the processes open, from their pools."""
    deployments, scalers = _of_kind(docs, "Deployment"), _of_kind(docs, "HorizontalPodAutoscaler")
    pools = {p["name"]: p["connections"] for p in topology["processes"]}
    return 1 + sum(pools[name] * (scalers[name]["spec"]["maxReplicas"] if name in scalers
                                  else deployment["spec"]["replicas"]) for name, deployment in deployments.items())


def test_the_autoscalers_maxima_fit_max_connections_and_the_guard_refuses_more(render: ModuleType) -> None:
    import helm_python

    from atelier_common.db import pool_for_roles

    topology = yaml.safe_load(render.TOPOLOGY.read_text())
    assert {p["name"]: p["connections"] for p in topology["processes"]}["catalog-api"] == sum(pool_for_roles(["api"]))
    values = yaml.safe_load((render.CHART / "values.yaml").read_text())
    budget = values["postgresql"]["maxConnections"] - values["postgresql"]["reservedConnections"]
    needed = _connections(_rendered(render), topology)
    assert needed <= budget
    # What `helm install` and `make chart-check` print, rather than a figure typed in the docs.
    assert f"the autoscalers' maxima can open {needed}; " in render.helm_notes()
    assert f"allows {budget}." in render.helm_notes()
    # Ten API replicas per service are more than 200 connections allow: the chart says so and renders nothing.
    with pytest.raises(helm_python.HelmRenderError, match=r"connection budget: .* can open \d+ PostgreSQL connections"):
        render.helm_render({"autoscaling": {"api": {"maxReplicas": 10}}})
    # With a server that allows them, the same maxima render.
    docs = _rendered(render, {"autoscaling": {"api": {"maxReplicas": 10}}, "postgresql": {"maxConnections": 500}})
    assert _of_kind(docs, "HorizontalPodAutoscaler")["orders-api"]["spec"]["maxReplicas"] == 10
    assert _connections(docs, topology) <= 490


def test_a_changed_setting_rolls_every_pod(render: ModuleType) -> None:
    def checksums(values: dict[str, Any] | None) -> dict[str, str]:
        return {name: d["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
                for name, d in _of_kind(_rendered(render, values), "Deployment").items()}

    before, after = checksums(None), checksums({"config": {"ATELIER_LOG_LEVEL": "DEBUG"}})
    assert set(before) == set(after) and all(before[name] != after[name] for name in before)
    docs = _rendered(render)
    for deployment in _of_kind(docs, "Deployment").values():
        assert "checksum/secrets" in deployment["spec"]["template"]["metadata"]["annotations"]
    # The existing Secrets are read at install time (`lookup`): the chart names them.
    assert "lookup \"v1\" \"Secret\"" in (render.CHART / "templates" / "_helpers.tpl").read_text()


def test_values_set_images_replicas_resources_urls_and_storefront_hosts(render: ModuleType) -> None:
    docs = _rendered(render, {
        "image": {"repository": "registry.example/atelier", "tag": "1.2.3"},
        "autoscaling": {"worker": {"minReplicas": 2, "maxReplicas": 3}}, "replicas": {"relay": 1},
        "resources": {"worker": {"limits": {"memory": "3Gi"}}},
        "postgresql": {"url": {"existingSecret": "pg", "key": "url"}},
        "storefronts": [{"slug": "marbelle", "hosts": ["api.marbelle.example"]}]})
    deployments = _of_kind(docs, "Deployment")
    worker = _container(deployments["generation-worker"])
    assert worker["image"] == "registry.example/atelier:1.2.3" and worker["resources"]["limits"]["memory"] == "3Gi"
    assert _of_kind(docs, "HorizontalPodAutoscaler")["generation-worker"]["spec"]["minReplicas"] == 2
    pg = next(e for e in worker["env"] if e["name"] == "ATELIER_POSTGRES_SERVER_URL")
    assert pg["valueFrom"] == {"secretKeyRef": {"name": "pg", "key": "url"}}
    (ingress,) = _of_kind(docs, "Ingress").values()
    assert [rule["host"] for rule in ingress["spec"]["rules"]] == ["atelier.example.com", "api.marbelle.example"]
    assert "api.marbelle.example" in ingress["spec"]["tls"][0]["hosts"]
    for rule in ingress["spec"]["rules"]:
        assert {"/compat", "/console", "/api", "/.well-known"} <= {p["path"] for p in rule["http"]["paths"]}
    assert "ATELIER_OTEL_EXPORTER" not in _of_kind(docs, "ConfigMap")["atelier-config"]["data"]
    otlp = _rendered(render, {"otlp": {"endpoint": "http://otel-collector.monitoring:4318"}})
    config = _of_kind(otlp, "ConfigMap")["atelier-config"]["data"]
    assert config["ATELIER_OTEL_EXPORTER"] == "otlp" and config["ATELIER_OTEL_ENDPOINT"].endswith(":4318")
    import helm_python

    with pytest.raises(helm_python.HelmRenderError, match="not latest"):
        render.helm_render({"image": {"tag": "latest"}})


def _exported_metrics() -> set[str]:
    """The series names Prometheus sees of every metric in atelier_common.metrics and the services' own."""
    from prometheus_client import Counter, Gauge, Histogram

    from atelier_common import metrics
    from atelier_generation import metrics as generation_metrics
    from atelier_orders import metrics as orders_metrics
    from atelier_payments import metrics as payments_metrics

    names: set[str] = set()
    modules = (metrics, generation_metrics, orders_metrics, payments_metrics)
    for value in (value for module in modules for value in vars(module).values()):
        if isinstance(value, Counter | Gauge | Histogram):
            (family,) = value.describe()
            if isinstance(value, Counter):
                names.add(f"{family.name}_total")
            elif isinstance(value, Histogram):
                names |= {f"{family.name}_bucket", f"{family.name}_sum", f"{family.name}_count"}
            else:
                names.add(family.name)
    return names


def _series(expr: str) -> set[str]:
    functions = {"sum", "rate", "max", "by", "histogram_quantile", "topk", "time", "le", "without", "increase"}
    return {name for name in re.findall(r"\b(atelier_[a-z_]+)\b", expr)} - functions


def test_alerts_and_dashboards_use_the_metrics_the_code_exports(k8s_docs: list[dict[str, Any]]) -> None:
    exported = _exported_metrics()
    assert "atelier_http_requests_total" in exported and "atelier_event_lag_seconds_bucket" in exported
    (rule,) = _of_kind(k8s_docs, "PrometheusRule").values()
    alerts = {r["alert"]: r["expr"] for group in rule["spec"]["groups"] for r in group["rules"]}
    assert {"AtelierHighErrorRate", "AtelierEventLag", "AtelierDeadLetters", "AtelierFailedJobs",
            "AtelierPaymentWebhookFailures", "AtelierOutboxAge"} <= alerts.keys()
    for name, expr in alerts.items():
        used = _series(expr)
        assert used and used <= exported, (name, used - exported)
    boards = {name: json.loads(next(iter(cm["data"].values())))
              for name, cm in _of_kind(k8s_docs, "ConfigMap").items() if name.startswith("atelier-dashboard-")}
    assert set(boards) == {"atelier-dashboard-http", "atelier-dashboard-commerce", "atelier-dashboard-events"}
    for name, board in boards.items():
        assert _of_kind(k8s_docs, "ConfigMap")[name]["metadata"]["labels"]["grafana_dashboard"] == "1"
        for panel in board["panels"]:
            for target in panel["targets"]:
                used = _series(target["expr"])
                assert used and used <= exported, (name, panel["title"], used - exported)
    titles = {panel["title"] for board in boards.values() for panel in board["panels"]}
    assert {"Requests per second by route", "p95 latency by route", "Checkout funnel (events per minute)",
            "Queue depth by consumer", "Generation jobs per minute",
            "Revenue per storefront and currency (last 24 h)", "Generation job time p95 by provider"} <= titles


def test_the_service_monitor_scrapes_every_http_service(k8s_docs: list[dict[str, Any]]) -> None:
    (monitor,) = _of_kind(k8s_docs, "ServiceMonitor").values()
    selector = monitor["spec"]["selector"]["matchLabels"]
    scraped = {name for name, service in _of_kind(k8s_docs, "Service").items()
               if selector.items() <= service["metadata"]["labels"].items()}
    assert scraped == {f"{s}-api" for s in SERVICES} | {"gateway"}
    assert monitor["spec"]["endpoints"][0]["port"] == "http" and monitor["spec"]["endpoints"][0]["path"] == "/metrics"
    (pods,) = _of_kind(k8s_docs, "PodMonitor").values()
    assert pods["spec"]["podMetricsEndpoints"][0]["port"] == "probe"


def _seam_failure(what: str) -> None:
    import helm_python

    pytest.fail(f"helm-python-sdk {helm_python.__version__}: {what}. deploy/render.py's render_with_api_versions reads "
                "this private part of it (its Chart.render() passes no api_versions): adapt that one function, or "
                "use Chart.render if it now takes api_versions")


def test_the_helm_seam_still_fits_helm_python(tmp_path: Path, render: ModuleType) -> None:
    """The canary of render_with_api_versions, deploy/render.py's only read of helm-python-sdk's
    private API (`_native.call_string("helm_render", …)` on `Chart._raw()`): the names are still there
    with the shape it calls, and the C function still honours the options it passes."""
    import ctypes
    import inspect

    import helm_python
    from helm_python import _native

    signature = getattr(_native, "SIGNATURES", {}).get("helm_render")
    if not callable(getattr(_native, "call_string", None)) or signature is None:
        _seam_failure("`_native.call_string` or the C function `helm_render` is gone")
    # (chart handle, values JSON, options JSON), then its result and error outputs
    elif signature[1][:3] != [getattr(_native, "HANDLE", None), ctypes.c_char_p, ctypes.c_char_p] or len(signature[1]) != 5:
        _seam_failure(f"`helm_render` no longer takes (chart handle, values, options): {signature}")
    if not callable(getattr(helm_python.Chart, "_raw", None)):
        _seam_failure("`Chart._raw()`, the loaded chart's native handle, is gone")
    if "api_versions" in inspect.signature(helm_python.Chart.render).parameters:
        _seam_failure("`Chart.render` now takes api_versions: the private call is no longer needed")
    chart = tmp_path / "canary"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: canary\nversion: 0.1.0\n")
    (chart / "templates" / "cm.yaml").write_text(
        'has: {{ .Capabilities.APIVersions.Has "canary.example.com/v1" }}\n'
        "release: {{ .Release.Name }}/{{ .Release.Namespace }}/{{ .Values.word }}\n")
    with helm_python.Chart.load(chart) as loaded:
        plain, served = (render.render_with_api_versions(loaded, {"word": "hi"}, name="r", namespace="ns", api_versions=versions)
                         ["canary/templates/cm.yaml"] for versions in ([], ["canary.example.com/v1"]))
    if plain != "has: false\nrelease: r/ns/hi\n" or served != "has: true\nrelease: r/ns/hi\n":
        _seam_failure(f"`helm_render` no longer honours its options (name, namespace, api_versions): {plain!r}, {served!r}")


def test_only_the_helm_seam_reads_helm_pythons_private_api() -> None:
    """Elsewhere deploy/render.py uses helm-python-sdk's public API only."""
    import ast

    tree = ast.parse((DEPLOY / "render.py").read_text())
    [seam] = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name == "render_with_api_versions"]
    inside = {id(node) for node in ast.walk(seam)}
    private = [f"line {node.lineno}" for node in ast.walk(tree) if id(node) not in inside and (
        (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"))
        or (isinstance(node, ast.ImportFrom) and (node.module or "").startswith("helm_python")
            and any(alias.name.startswith("_") for alias in node.names)))]
    assert not private, f"deploy/render.py reads a private name outside render_with_api_versions: {private}"

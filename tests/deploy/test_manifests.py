"""The KServe manifests: each overlay renders, every object is valid, and the predictors
have what running the services needs (probes, resources, GPUs, timeouts, security)."""

from __future__ import annotations

import re
import subprocess
from functools import cache
from typing import Any

import pytest
import yaml

from bentos.common.settings import SERVICE_TIMEOUTS
from pipeline_client.settings import SERVICES
from tests.conftest import ROOT

OVERLAYS = ("cpu", "gpu")
GPU_SERVICES = {"transcribe", "art"}
K8S_VERSION = "1.32"


@cache
def render(overlay: str) -> list[dict[str, Any]]:
    out = subprocess.run(
        ["kubectl", "kustomize", str(ROOT / "manifests" / "overlays" / overlay)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return [doc for doc in yaml.safe_load_all(out) if doc]


def of_kind(overlay: str, kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in render(overlay) if d["kind"] == kind}


def typed(data: Any, type_name: str, where: str) -> Any:
    """The KServe SDK's (and the Kubernetes client's) model objects for ``data``; unknown
    fields fail, where the SDK's own deserializer would silently drop them."""
    import kserve.models
    import kubernetes.client.models

    if data is None:
        return None
    if match := re.fullmatch(r"(?:list|List)\[(.+)\]", type_name):
        return [typed(item, match[1], f"{where}[{i}]") for i, item in enumerate(data)]
    if match := re.fullmatch(r"(?:dict\(str, (.+)\)|Dict\[str, (.+)\])", type_name):
        return {k: typed(v, match[1] or match[2], f"{where}.{k}") for k, v in data.items()}
    if type_name in ("str", "int", "float", "bool", "object", "datetime"):
        return data
    klass = getattr(kserve.models, type_name, None) or getattr(kubernetes.client.models, type_name)
    unknown = set(data) - set(klass.attribute_map.values())
    assert not unknown, f"{where}: fields {sorted(unknown)} are not in {type_name}"
    return klass(**{
        attr: typed(data[key], klass.openapi_types[attr], f"{where}.{key}")
        for attr, key in klass.attribute_map.items() if key in data
    })  # fmt: skip


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_core_object_validates_against_kubernetes_schemas(overlay: str) -> None:
    import kubernetes_validate

    core = [d for d in render(overlay) if d["kind"] != "InferenceService"]
    assert {d["kind"] for d in core} >= {"Deployment", "Service", "Ingress", "NetworkPolicy"}
    for doc in core:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    assert all(doc["kind"] != "Secret" for doc in render(overlay))  # referenced, not committed


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_one_inference_service_per_model_service(overlay: str) -> None:
    services = of_kind(overlay, "InferenceService")
    assert set(services) == set(SERVICES)
    for name, doc in services.items():
        isvc = typed(doc, "V1beta1InferenceService", name)
        predictor = isvc.spec.predictor
        (container,) = predictor.containers
        assert container.name == "kserve-container"
        assert [p.container_port for p in container.ports] == [3000]
        assert container.readiness_probe.http_get.path == "/readyz"
        assert container.liveness_probe.http_get.path == "/livez"
        startup = container.startup_probe
        assert startup.period_seconds * startup.failure_threshold >= 600  # models load slowly
        for amounts in (container.resources.requests, container.resources.limits):
            assert {"cpu", "memory"} <= set(amounts)
        assert predictor.timeout == SERVICE_TIMEOUTS[name]
        assert predictor.min_replicas >= 1 and predictor.max_replicas >= predictor.min_replicas
        assert predictor.scale_metric == "concurrency" and predictor.scale_target > 0
        annotations = predictor.annotations
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/port"] == "3000"
        assert re.fullmatch(rf"ghcr\.io/[\w.-]+/{name}:[\w.-]+", container.image)
        assert isvc.metadata.labels["networking.knative.dev/visibility"] == "cluster-local"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_gpus_where_production_needs_them(overlay: str) -> None:
    for name, doc in of_kind(overlay, "InferenceService").items():
        resources = doc["spec"]["predictor"]["containers"][0]["resources"]
        wants = overlay == "gpu" and name in GPU_SERVICES
        for amounts in (resources["requests"], resources["limits"]):
            assert (amounts.get("nvidia.com/gpu") == "1") == wants, (overlay, name)
        tolerations = doc["spec"]["predictor"].get("tolerations", [])
        assert bool(tolerations) == wants


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_containers_run_as_non_root_on_read_only_filesystems(overlay: str) -> None:
    pods = [doc["spec"]["predictor"] for doc in of_kind(overlay, "InferenceService").values()]
    pods += [doc["spec"]["template"]["spec"] for doc in of_kind(overlay, "Deployment").values()]
    for pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]
            mounts = {m["mountPath"] for m in container["volumeMounts"]}
            assert "/tmp" in mounts  # the one place every service writes


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_studio_is_exposed_and_it_reaches_every_service(overlay: str) -> None:
    (ingress,) = of_kind(overlay, "Ingress").values()
    backends = {p["backend"]["service"]["name"] for r in ingress["spec"]["rules"]
                for p in r["http"]["paths"]}  # fmt: skip
    assert backends == {"studio"} and ingress["spec"]["tls"]
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/auth-type"] == "basic"
    assert all(s["spec"].get("type", "ClusterIP") == "ClusterIP"
               for s in of_kind(overlay, "Service").values())  # fmt: skip
    studio = of_kind(overlay, "Deployment")["studio"]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in studio["env"]}
    for service in SERVICES:
        assert env[f"MARKETPLACE_{service.upper()}_URL"] == (
            f"http://{service}.ai-marketplace.svc.cluster.local"
        )


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_model_services_accept_only_the_namespace_and_the_platform(overlay: str) -> None:
    policy = of_kind(overlay, "NetworkPolicy")["model-services"]
    assert policy["spec"]["podSelector"]["matchLabels"] == {"ai-marketplace/role": "model"}
    (rule,) = policy["spec"]["ingress"]
    sources = rule["from"]
    assert {"podSelector": {}} in sources  # this namespace: the studio and its clients
    namespaces = sources[1]["namespaceSelector"]["matchExpressions"][0]["values"]
    assert set(namespaces) == {"knative-serving", "istio-system", "monitoring"}
    for doc in of_kind(overlay, "InferenceService").values():
        assert doc["spec"]["predictor"]["labels"]["ai-marketplace/role"] == "model"


def test_the_typed_check_catches_a_misspelt_field() -> None:
    doc = of_kind("gpu", "InferenceService")["genre"]
    broken = yaml.safe_load(yaml.safe_dump(doc))
    broken["spec"]["predictor"]["minReplica"] = 2
    with pytest.raises(AssertionError, match="minReplica"):
        typed(broken, "V1beta1InferenceService", "genre")


def test_set_image_points_an_overlay_at_a_new_image(tmp_path) -> None:
    import shutil

    from bentos.deploy import main as deploy

    overlays = tmp_path / "overlays"
    shutil.copytree(ROOT / "manifests" / "overlays", overlays)
    shutil.copytree(ROOT / "manifests" / "base", tmp_path / "base")
    image = "ghcr.io/acme/ai-marketplace/genre:3f2c9a1b7d0e-mdziv"
    assert deploy(["set-image", "genre", image, "--overlays-dir", str(overlays)]) == 0
    for overlay in OVERLAYS:
        text = (overlays / overlay / "kustomization.yaml").read_text()
        assert "newName: ghcr.io/acme/ai-marketplace/genre\n    newTag: 3f2c9a1b7d0e-mdziv" in text
        assert text.startswith("#")  # comments kept
        out = subprocess.run(["kubectl", "kustomize", str(overlays / overlay)],
                             capture_output=True, text=True, check=True).stdout  # fmt: skip
        assert f"image: {image}" in out
        assert "image: ghcr.io/ai-marketplace/art:latest" in out  # the others untouched
    assert deploy(["set-image", "nope", image, "--overlays-dir", str(overlays)]) == 1

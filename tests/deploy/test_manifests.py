"""The KServe manifests: each overlay renders, every object is valid, the predictors have
what running the services needs (probes, resources, GPUs, timeouts, security), and the
rendered overlays admit only the studio: who reaches what, tokens, secrets, images."""

from __future__ import annotations

import ipaddress
import re
import subprocess
from functools import cache
from typing import Any

import pytest
import yaml

from bentos.common.settings import SERVICE_TIMEOUTS
from marketplace.contracts.services import SERVICE_NAMES as SERVICES
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
        assert predictor.scale_metric == "cpu" and 0 < predictor.scale_target <= 100  # HPA
        annotations = predictor.annotations
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/port"] == "3000"
        assert re.fullmatch(rf"ghcr\.io/[\w.-]+/{name}:[\w.-]+", container.image)
        assert isvc.metadata.labels["networking.kserve.io/visibility"] == "cluster-local"
        assert predictor.automount_service_account_token is False


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
    for kind in ("Deployment", "StatefulSet"):
        pods += [doc["spec"]["template"]["spec"] for doc in of_kind(overlay, kind).values()]
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
        assert env[f"MARKETPLACE_{service.upper()}_URL"] == (  # RawDeployment's Service
            f"http://{service}-predictor.ai-marketplace.svc.cluster.local"
        )


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
        assert re.search(r"image: ghcr\.io/ai-marketplace/art:[0-9a-f]{12}\n", out)  # untouched
    assert deploy(["set-image", "nope", image, "--overlays-dir", str(overlays)]) == 1
    digest = "ghcr.io/acme/ai-marketplace/art@sha256:" + "0" * 64
    assert deploy(["set-image", "art", digest, "--overlays-dir", str(overlays)]) == 0
    out = subprocess.run(["kubectl", "kustomize", str(overlays / "gpu")],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert f"image: {digest}" in out
    before = (overlays / "gpu" / "kustomization.yaml").read_text()
    for moving in ("ghcr.io/acme/x/genre:latest", "ghcr.io/acme/x/genre", "x/genre:main"):
        assert deploy(["set-image", "genre", moving, "--overlays-dir", str(overlays)]) == 2
    assert (overlays / "gpu" / "kustomization.yaml").read_text() == before


# Who reaches what, on the rendered overlays ---------------------------------------------

# Pods that reach the internet: youtube (yt-dlp) and the job that fills the model cache.
INTERNET = {"youtube": {(443, "TCP"), (80, "TCP")}, "model-cache": {(443, "TCP")}}
# The services that load hub or Whisper models, from the cache the job fills.
CACHE_READERS = ("transcribe", "lyrics", "summarize", "art")


PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16",
                  "100.64.0.0/10", "127.0.0.0/8")  # fmt: skip
STUDIO_PEER = {"podSelector": {"matchLabels": {"ai-marketplace/role": "studio"}}}
MODEL_PEER = {"podSelector": {"matchLabels": {"ai-marketplace/role": "model"}}}
PROMETHEUS_PEER = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
}
INGRESS_NGINX_PEER = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}
}
DATABASE_PEER = {"podSelector": {"matchLabels": {"ai-marketplace/role": "database"}}}
KUBE_DNS_PEER = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
}


def pods(overlay: str) -> dict[str, dict[str, Any]]:
    """Every pod the overlay runs: name -> {"labels", "spec"} (a predictor is a pod spec)."""
    found = {}
    for name, doc in of_kind(overlay, "InferenceService").items():
        predictor = doc["spec"]["predictor"]
        found[name] = {"labels": predictor["labels"], "spec": predictor}
    for kind in ("Deployment", "StatefulSet", "Job"):
        for name, doc in of_kind(overlay, kind).items():
            template = doc["spec"]["template"]
            found[name] = {"labels": template["metadata"]["labels"], "spec": template["spec"]}
    return found


def selects(policy: dict[str, Any], labels: dict[str, str]) -> bool:
    selector = policy["spec"]["podSelector"]
    assert set(selector) <= {"matchLabels"}, "only matchLabels, so the test can follow it"
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def policies_for(overlay: str, labels: dict[str, str], kind: str) -> list[dict[str, Any]]:
    return [p for p in of_kind(overlay, "NetworkPolicy").values()
            if kind in p["spec"]["policyTypes"] and selects(p, labels)]  # fmt: skip


def rules(overlay: str, labels: dict[str, str], kind: str) -> list[dict[str, Any]]:
    key = "ingress" if kind == "Ingress" else "egress"
    return [r for p in policies_for(overlay, labels, kind) for r in p["spec"].get(key) or []]


def ports(rule: dict[str, Any]) -> set[tuple[Any, str]]:
    return {(p["port"], p.get("protocol", "TCP")) for p in rule.get("ports", [])}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_inference_service_is_a_raw_deployment(overlay: str) -> None:
    for name, doc in of_kind(overlay, "InferenceService").items():
        annotations = doc["metadata"]["annotations"]
        assert annotations["serving.kserve.io/deploymentMode"] == "RawDeployment", name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_is_denied_by_default_both_ways(overlay: str) -> None:
    for name, pod in pods(overlay).items():
        for kind in ("Ingress", "Egress"):
            assert policies_for(overlay, pod["labels"], kind), (name, kind)
        for kind in ("ingress", "egress"):
            for rule in rules(overlay, pod["labels"], kind.capitalize()):
                peers = rule.get("from" if kind == "ingress" else "to")
                assert peers, f"{name}: an {kind} rule without peers admits everyone"
                for peer in peers:  # an empty selector is every namespace or every pod
                    assert all(v for v in peer.values()), (name, peer)
                    assert peer.get("namespaceSelector", {"x": 1}) != {}, (name, peer)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_model_services_admit_only_the_studio_and_prometheus(overlay: str) -> None:
    for name, pod in pods(overlay).items():
        if pod["labels"].get("ai-marketplace/role") != "model":
            continue
        peers = [peer for r in rules(overlay, pod["labels"], "Ingress") for peer in r["from"]]
        assert sorted(map(str, peers)) == sorted(map(str, [STUDIO_PEER, PROMETHEUS_PEER]))
        for rule in rules(overlay, pod["labels"], "Ingress"):
            assert ports(rule) == {(3000, "TCP")}, name
    roles = {n for n, p in pods(overlay).items() if p["labels"].get("ai-marketplace/role")}
    database = {"studio-db"} if overlay == "cpu" else set()  # gpu: a managed database
    assert roles == {*SERVICES, "studio", "model-cache", *database}  # for the policies


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_studio_admits_only_the_ingress_controller_and_prometheus(overlay: str) -> None:
    labels = pods(overlay)["studio"]["labels"]
    peers = [peer for r in rules(overlay, labels, "Ingress") for peer in r["from"]]
    assert sorted(map(str, peers)) == sorted(map(str, [INGRESS_NGINX_PEER, PROMETHEUS_PEER]))
    egress = rules(overlay, labels, "Egress")
    to_models = [r for r in egress if r["to"] == [MODEL_PEER]]
    assert len(to_models) == 1 and ports(to_models[0]) == {(3000, "TCP")}
    (database,) = [r for r in egress if r["to"] not in ([MODEL_PEER], [KUBE_DNS_PEER])]
    assert ports(database) == {(5432, "TCP")}  # and its database, nothing else
    if overlay == "cpu":
        assert database["to"] == [DATABASE_PEER]
    else:  # a managed database: private addresses only
        cidrs = [ipaddress.ip_network(peer["ipBlock"]["cidr"]) for peer in database["to"]]
        assert cidrs and all(c.is_private for c in cidrs), cidrs


def test_the_cpu_overlays_database_admits_only_the_studio_and_reaches_nothing() -> None:
    labels = pods("cpu")["studio-db"]["labels"]
    (rule,) = rules("cpu", labels, "Ingress")
    assert rule["from"] == [STUDIO_PEER] and ports(rule) == {(5432, "TCP")}
    assert [r["to"] for r in rules("cpu", labels, "Egress")] == [[KUBE_DNS_PEER]]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_studio_keeps_its_runs_in_postgresql_on_a_volume_its_replicas_share(
    overlay: str,
) -> None:
    studio = of_kind(overlay, "Deployment")["studio"]["spec"]
    (container,) = studio["template"]["spec"]["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert env["STUDIO_DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "studio-database", "key": "url"}  # fmt: skip
    assert env["STUDIO_EXECUTOR_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    volume = of_kind(overlay, "PersistentVolumeClaim")["studio-data"]["spec"]
    if overlay == "cpu":  # one studio, PostgreSQL in the cluster
        assert studio["replicas"] == 1 and volume["accessModes"] == ["ReadWriteOnce"]
        database = of_kind("cpu", "StatefulSet")["studio-db"]["spec"]
        (postgres,) = database["template"]["spec"]["containers"]
        assert postgres["image"].startswith("postgres:15.")
        assert database["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"]
    else:  # two studios on a managed database, sharing their files
        assert studio["replicas"] == 2 and studio["strategy"] == {"type": "RollingUpdate"}
        assert volume["accessModes"] == ["ReadWriteMany"]
        assert "StatefulSet" not in {d["kind"] for d in render(overlay)}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_resolves_names_and_only_those_that_need_it_reach_the_internet(
    overlay: str,
) -> None:
    for name, pod in pods(overlay).items():
        egress = rules(overlay, pod["labels"], "Egress")
        dns = [r for r in egress if r["to"] == [KUBE_DNS_PEER]]
        assert dns and ports(dns[0]) == {(53, "UDP"), (53, "TCP")}, name
        blocks = [peer["ipBlock"] for r in egress for peer in r["to"] if "ipBlock" in peer]
        if name == "studio" and overlay == "gpu":  # its managed database, private addresses
            assert all(ipaddress.ip_network(b["cidr"]).is_private for b in blocks), blocks
            continue
        if name not in INTERNET:
            assert not blocks, f"{name} reaches addresses outside the cluster"
            continue
        (block,) = blocks
        assert block["cidr"] == "0.0.0.0/0"
        excepted = [ipaddress.ip_network(c) for c in block["except"]]
        for private in map(ipaddress.ip_network, PRIVATE_RANGES):
            assert any(private.subnet_of(e) for e in excepted), private
        (rule,) = [r for r in egress if any("ipBlock" in peer for peer in r["to"])]
        assert ports(rule) == INTERNET[name], name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_pod_mounts_a_service_account_token(overlay: str) -> None:
    accounts = of_kind(overlay, "ServiceAccount")
    for name, pod in pods(overlay).items():
        spec = pod["spec"]
        assert spec["automountServiceAccountToken"] is False, name
        account = spec.get("serviceAccountName")
        assert account in accounts, f"{name}: a dedicated service account, not default"
        assert accounts[account]["automountServiceAccountToken"] is False
    assert not [d for d in render(overlay) if d["kind"] in ("RoleBinding", "ClusterRoleBinding")]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_secrets_reach_only_the_pods_that_use_them(overlay: str) -> None:
    for name, pod in pods(overlay).items():
        text = yaml.safe_dump(pod["spec"]["containers"])
        if name == "model-cache":  # the hub token (optional), for gated models, and no other
            assert text.count("secretKeyRef") == 1 and "name: huggingface" in text, name
            continue
        assert "name: huggingface" not in text and "HF_TOKEN" not in text, name
        if name == "studio":  # its database's URL, and no other secret
            env = [e for c in pod["spec"]["containers"] for e in c.get("env", [])]
            refs = [e["valueFrom"]["secretKeyRef"] for e in env
                    if "secretKeyRef" in e.get("valueFrom", {})]  # fmt: skip
            assert refs == [{"name": "studio-database", "key": "url"}], refs
        if name == "studio-db":  # the database's own password, and no other secret
            assert text.count("secretKeyRef") == 1 and "key: password" in text, name
        if name in SERVICES:  # model services: the registry pull secret, nothing else
            assert "secretKeyRef" not in text and "secretRef" not in text, name
            assert not [v for v in pod["spec"].get("volumes", []) if "secret" in v], name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_image_is_an_exact_version(overlay: str) -> None:
    from bentos.deploy import DIGEST, EXACT_TAG

    images = [c["image"] for pod in pods(overlay).values() for c in pod["spec"]["containers"]]
    database = 1 if overlay == "cpu" else 0  # the cpu overlay's own PostgreSQL
    assert len(images) == len(SERVICES) + 2 + database  # the studio's image fills the cache
    for image in images:
        name, _, digest = image.partition("@")
        if digest:
            assert DIGEST.fullmatch(digest), image
            continue
        name, _, tag = image.rpartition(":")
        assert name and "/" not in tag, f"{image}: untagged"
        assert tag != "latest" and EXACT_TAG.fullmatch(tag), image


def env_of(container: dict[str, Any], overlay: str) -> dict[str, str]:
    """A container's environment: its ConfigMaps' entries, then its own values over them."""
    maps = of_kind(overlay, "ConfigMap")
    env = {}
    for source in container.get("envFrom", []):
        env |= maps[source["configMapRef"]["name"]]["data"]
    return env | {e["name"]: e.get("value") for e in container.get("env", [])}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_model_pods_load_the_cache_the_job_fills_read_only_and_offline(overlay: str) -> None:
    everything = pods(overlay)
    job = everything["model-cache"]["spec"]
    (fetch,) = job["containers"]
    assert fetch["command"] == ["python", "-m", "bentos.models", "fetch"]
    job_env = env_of(fetch, overlay)
    assert "HF_HUB_OFFLINE" not in job_env
    (claim,) = [v["persistentVolumeClaim"]["claimName"] for v in job["volumes"]
                if "persistentVolumeClaim" in v]  # fmt: skip
    assert of_kind(overlay, "PersistentVolumeClaim")[claim]
    for name, pod in everything.items():
        container = pod["spec"]["containers"][0]
        volumes = {v["name"]: v for v in pod["spec"].get("volumes", [])}
        claims = {
            n: v.get("persistentVolumeClaim", {}).get("claimName") for n, v in volumes.items()
        }
        # (a StatefulSet's own volumes come from its claim templates)
        mounts = [m for m in container.get("volumeMounts", []) if claims.get(m["name"]) == claim]
        if name == "model-cache":
            continue
        if name not in CACHE_READERS:
            assert not mounts, f"{name} mounts the model cache it has no use for"
            continue
        (mount,) = mounts
        assert mount["readOnly"] is True
        assert volumes[mount["name"]]["persistentVolumeClaim"]["readOnly"] is True
        env = env_of(container, overlay)
        assert env["HF_HUB_OFFLINE"] == "1", f"{name} could download from the hub"
        for key in ("HF_HUB_CACHE", "TRANSCRIBE_DOWNLOAD_ROOT"):  # what the job filled
            assert env[key] == job_env[key] and env[key].startswith(mount["mountPath"] + "/")
        # the same model choices as the job: every setting of the job's is the pod's too
        chosen = {k: v for k, v in job_env.items() if k not in ("HF_HOME", "HF_TOKEN")}
        assert {k: env.get(k) for k in chosen} == chosen, name

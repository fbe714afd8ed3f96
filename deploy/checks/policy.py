"""Check the rules of deploy/ that schema validation cannot express.

Usage: python3 policy.py DEPLOY_DIR

A schema accepts a Deployment that runs as root, a Service whose selector
matches no pod, or a collector pipeline that names an exporter that is not
defined. This script rejects those. It checks the gateway's security
settings in Kubernetes and compose, the references between manifests, and
the wiring of the OpenTelemetry collector configuration. It prints one line per violation
and exits with status 1 if there is any.

Requires PyYAML.
"""

import sys
from pathlib import Path
from urllib.parse import urlsplit

import yaml

NAMESPACE = "sandnotes"
GATEWAY_SERVICE = "gateway"
SECRET_VARIABLES = ("SANDNOTES_MASTER_KEY", "DATABASE_URL")


class Report:
    """Violations found so far, each prefixed with the file it concerns."""

    def __init__(self):
        self.violations = []

    def check(self, condition, path, message):
        if not condition:
            self.violations.append(f"{path}: {message}")


def load_documents(path):
    with open(path, encoding="utf-8") as file:
        return [document for document in yaml.safe_load_all(file) if document]


def load_single(path):
    documents = load_documents(path)
    if len(documents) != 1:
        raise ValueError(f"{path}: expected one YAML document, found {len(documents)}")
    return documents[0]


def labels_match(selector, labels):
    return bool(selector) and all(labels.get(key) == value for key, value in selector.items())


def check_kubernetes(folder, report):
    """Check the manifests listed by the kustomization in `folder`."""
    kustomization_path = folder / "kustomization.yaml"
    listed = load_single(kustomization_path).get("resources", [])
    present = sorted(path.name for path in folder.glob("*.yaml") if path.name != "kustomization.yaml")
    report.check(
        sorted(listed) == present,
        kustomization_path,
        f"resources {sorted(listed)} differ from the manifests in the folder {present}",
    )

    resources = []
    for name in listed:
        for document in load_documents(folder / name):
            resources.append((folder / name, document))

    by_kind = {}
    for path, resource in resources:
        by_kind.setdefault(resource["kind"], []).append((path, resource))
        if resource["kind"] == "ConfigMap":
            for variable in SECRET_VARIABLES:
                report.check(variable not in resource.get("data", {}), path, f"{variable} must come from a Secret, not a ConfigMap")
        if resource["kind"] != "Namespace":
            report.check(
                resource["metadata"].get("namespace") == NAMESPACE,
                path,
                f"{resource['kind']} {resource['metadata']['name']} must set namespace {NAMESPACE}, so that kubectl apply -f works without kustomize",
            )

    deployments = by_kind.get("Deployment", [])
    report.check(len(deployments) == 1, folder, f"expected one Deployment, found {len(deployments)}")
    if len(deployments) != 1:
        return
    deployment_path, deployment = deployments[0]
    check_deployment(deployment_path, deployment, by_kind, report)
    check_references(deployment, by_kind, report)


def check_deployment(path, deployment, by_kind, report):
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    report.check(spec.get("replicas", 1) >= 2, path, "the Deployment must run at least two replicas")
    report.check(pod.get("automountServiceAccountToken") is False, path, "automountServiceAccountToken must be false")

    pod_security = pod.get("securityContext", {})
    report.check(pod_security.get("runAsNonRoot") is True, path, "the pod must set runAsNonRoot: true")
    report.check(pod_security.get("runAsUser", 0) != 0, path, "the pod must set a non-zero runAsUser")
    report.check(
        pod_security.get("seccompProfile", {}).get("type") in ("RuntimeDefault", "Localhost"),
        path,
        "the pod's seccompProfile must be RuntimeDefault or Localhost",
    )

    config_data = {}
    for _, config_map in by_kind.get("ConfigMap", []):
        config_data.update(config_map.get("data", {}))

    for container in pod["containers"]:
        name = container["name"]
        security = container.get("securityContext", {})
        capabilities = security.get("capabilities", {})
        report.check(security.get("allowPrivilegeEscalation") is False, path, f"container {name}: allowPrivilegeEscalation must be false")
        report.check(security.get("readOnlyRootFilesystem") is True, path, f"container {name}: readOnlyRootFilesystem must be true")
        report.check(security.get("privileged") is not True, path, f"container {name}: must not be privileged")
        report.check("ALL" in capabilities.get("drop", []), path, f"container {name}: capabilities must drop ALL")
        report.check(not capabilities.get("add"), path, f"container {name}: must not add capabilities")

        resources = container.get("resources", {})
        for section in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                report.check(resource in resources.get(section, {}), path, f"container {name}: resources.{section}.{resource} is missing")

        probes = {"livenessProbe": "/healthz", "readinessProbe": "/readyz"}
        for probe, expected_path in probes.items():
            actual_path = container.get(probe, {}).get("httpGet", {}).get("path")
            report.check(actual_path == expected_path, path, f"container {name}: {probe} must GET {expected_path}, found {actual_path}")

        env = {variable["name"]: variable for variable in container.get("env", [])}
        for variable in SECRET_VARIABLES:
            source = env.get(variable, {}).get("valueFrom", {})
            report.check("secretKeyRef" in source, path, f"container {name}: {variable} must come from a Secret (secretKeyRef)")

        data_dir = env.get("SANDNOTES_DATA_DIR", {}).get("value") or config_data.get("SANDNOTES_DATA_DIR")
        mounts = [mount["mountPath"] for mount in container.get("volumeMounts", [])]
        report.check(data_dir in mounts, path, f"container {name}: SANDNOTES_DATA_DIR {data_dir} must be a mounted volume, because the root file system is read-only")


def check_references(deployment, by_kind, report):
    """Check that selectors and names in other manifests point at the Deployment."""
    deployment_name = deployment["metadata"]["name"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    pod = deployment["spec"]["template"]["spec"]

    report.check(
        labels_match(deployment["spec"]["selector"]["matchLabels"], pod_labels),
        deployment_name,
        "the Deployment selector does not match its pod labels",
    )
    for path, service in by_kind.get("Service", []):
        report.check(labels_match(service["spec"].get("selector"), pod_labels), path, "the Service selector matches no gateway pod")
    for path, budget in by_kind.get("PodDisruptionBudget", []):
        report.check(labels_match(budget["spec"]["selector"].get("matchLabels"), pod_labels), path, "the PodDisruptionBudget selector matches no gateway pod")
    for path, policy in by_kind.get("NetworkPolicy", []):
        report.check(labels_match(policy["spec"]["podSelector"].get("matchLabels"), pod_labels), path, "the NetworkPolicy podSelector matches no gateway pod")

    autoscalers = by_kind.get("HorizontalPodAutoscaler", [])
    report.check(len(autoscalers) == 1, deployment_name, f"expected one HorizontalPodAutoscaler, found {len(autoscalers)}")
    for path, autoscaler in autoscalers:
        target = autoscaler["spec"]["scaleTargetRef"]
        report.check((target["kind"], target["name"]) == ("Deployment", deployment_name), path, f"the autoscaler targets {target['kind']} {target['name']}")
        report.check(autoscaler["spec"].get("minReplicas", 1) >= 2, path, "minReplicas must be at least 2")

    account_names = [account["metadata"]["name"] for _, account in by_kind.get("ServiceAccount", [])]
    report.check(pod.get("serviceAccountName") in account_names, deployment_name, f"service account {pod.get('serviceAccountName')} is not defined")

    config_map_names = [config_map["metadata"]["name"] for _, config_map in by_kind.get("ConfigMap", [])]
    for container in pod["containers"]:
        for source in container.get("envFrom", []):
            name = source.get("configMapRef", {}).get("name")
            if name:
                report.check(name in config_map_names, deployment_name, f"ConfigMap {name} is not defined")


def check_compose(path, report):
    compose = load_single(path)
    services = compose.get("services", {})
    declared_volumes = set(compose.get("volumes") or {})

    for name, service in services.items():
        for dependency in service.get("depends_on") or {}:
            report.check(dependency in services, path, f"service {name} depends on the undefined service {dependency}")
        for volume in service.get("volumes") or []:
            source = volume.split(":")[0] if isinstance(volume, str) else volume.get("source", "")
            if source and not source.startswith((".", "/")):
                report.check(source in declared_volumes, path, f"service {name} mounts the undeclared volume {source}")

    gateway = services.get(GATEWAY_SERVICE)
    report.check(gateway is not None, path, f"no service named {GATEWAY_SERVICE}")
    if gateway is None:
        return
    environment = gateway.get("environment", {})
    report.check(gateway.get("read_only") is True, path, "the gateway must set read_only: true")
    report.check("ALL" in gateway.get("cap_drop", []), path, "the gateway must drop ALL capabilities")
    report.check("no-new-privileges:true" in gateway.get("security_opt", []), path, "the gateway must set no-new-privileges:true")
    report.check(
        str(environment.get("SANDNOTES_MASTER_KEY", "")).startswith("${"),
        path,
        "SANDNOTES_MASTER_KEY must be read from the environment or deploy/.env, never written in the file",
    )
    targets = [str(volume).split(":")[1] for volume in gateway.get("volumes", []) if ":" in str(volume)]
    report.check(
        environment.get("SANDNOTES_DATA_DIR") in targets,
        path,
        "SANDNOTES_DATA_DIR must be a mounted volume, because the root file system is read-only",
    )

    endpoint = urlsplit(environment.get("OTEL_EXPORTER_OTLP_ENDPOINT", ""))
    report.check(endpoint.hostname in services, path, f"the OTLP endpoint host {endpoint.hostname} is not a compose service")


def component_names(config, section):
    return set((config.get(section) or {}).keys())


def check_collector(path, report):
    config = load_single(path)
    service = config.get("service", {})
    pipelines = service.get("pipelines", {})

    for signal in ("traces", "metrics"):
        report.check(signal in pipelines, path, f"no {signal} pipeline")
    for pipeline_name, pipeline in pipelines.items():
        report.check(bool(pipeline.get("receivers")), path, f"pipeline {pipeline_name} has no receivers")
        report.check(bool(pipeline.get("exporters")), path, f"pipeline {pipeline_name} has no exporters")
        for section in ("receivers", "processors", "exporters"):
            defined = component_names(config, section)
            for component in pipeline.get(section, []):
                report.check(component in defined, path, f"pipeline {pipeline_name} uses {section[:-1]} {component}, which is not defined")
        processors = pipeline.get("processors", [])
        if "memory_limiter" in processors:
            report.check(processors[0] == "memory_limiter", path, f"pipeline {pipeline_name}: memory_limiter must be the first processor")

    defined_extensions = component_names(config, "extensions")
    for extension in service.get("extensions", []):
        report.check(extension in defined_extensions, path, f"extension {extension} is not defined")

    http = (config.get("receivers", {}).get("otlp", {}).get("protocols") or {}).get("http") or {}
    report.check(
        str(http.get("endpoint", "")).endswith(":4318"),
        path,
        "the otlp receiver must accept OTLP/HTTP on port 4318, where the gateway's OTEL_EXPORTER_OTLP_ENDPOINT points",
    )


def main(arguments):
    if len(arguments) != 1:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    deploy = Path(arguments[0])
    report = Report()

    try:
        check_kubernetes(deploy / "kubernetes", report)
        check_compose(deploy / "compose.yaml", report)
        check_collector(deploy / "otel-collector.yaml", report)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, yaml.YAMLError) as error:
        print(f"policy: failed to check {deploy}, a file is missing or malformed: {error!r}", file=sys.stderr)
        return 1

    for violation in report.violations:
        print(f"policy: {violation}")
    if report.violations:
        print(f"policy: {len(report.violations)} violation(s)")
        return 1
    print("policy: kubernetes, compose and collector rules hold")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

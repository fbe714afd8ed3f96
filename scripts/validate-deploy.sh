#!/usr/bin/env bash
# Validates the deployment files in deploy/ without network access beyond
# PyPI:
#   - YAML syntax and duplicate keys (yamllint),
#   - the Kubernetes manifests against the Kubernetes 1.30 and 1.37 schemas,
#     rejecting unknown fields and unknown kinds (kubernetes-validate),
#   - the kustomization, rendered with `kubectl kustomize` when kubectl is
#     installed,
#   - the compose file against the Compose Specification schema
#     (check-jsonschema),
#   - the Dockerfile (hadolint),
#   - the security and wiring rules that no schema expresses
#     (deploy/checks/policy.py).
# Then it breaks a copy of deploy/ in one way per check and requires each
# broken copy to be rejected, so a validator that silently stopped checking
# fails this script too.
#
# The validators, pinned in deploy/checks/requirements.txt, are installed
# into a virtualenv under target/deploy-validate/ and reused while that file
# is unchanged. Exits with status 1 if any check failed.
set -euo pipefail
cd "$(dirname "$0")/.."

kubernetes_versions=(1.30.0 1.37.0)
requirements=deploy/checks/requirements.txt
venv=target/deploy-validate/venv
passed=0
failed=0

install_validators() {
    local stamp=$venv/requirements.sha256
    local wanted
    wanted=$(sha256sum "$requirements" | cut -d ' ' -f 1)
    if [[ -f $stamp && $(cat "$stamp") == "$wanted" ]]; then
        return
    fi

    echo "installing the validators into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    echo "$wanted" >"$stamp"
}

# Each check takes a deploy folder, prints what it rejected, and returns
# non-zero when the folder is invalid.

check_yaml() {
    yamllint --strict --config-file "$1/.yamllint.yaml" "$1"
}

kubernetes_files() {
    local deploy=$1
    find "$deploy/kubernetes" -maxdepth 1 -name '*.yaml' ! -name kustomization.yaml | sort
    echo "$deploy/kubernetes-secrets.example.yaml"
}

# kubernetes-validate only warns, with exit status 0, about a kind it has no
# schema for, so any output in quiet mode counts as a failure.
validate_kubernetes_stream() {
    local version=$1
    shift
    local output
    output=$(kubernetes-validate --strict --quiet --kubernetes-version "$version" "$@" 2>&1) || {
        echo "$output"
        return 1
    }
    if [[ -n $output ]]; then
        echo "$output"
        return 1
    fi
}

check_kubernetes() {
    local files version
    mapfile -t files < <(kubernetes_files "$1")
    for version in "${kubernetes_versions[@]}"; do
        validate_kubernetes_stream "$version" "${files[@]}" || return 1
    done
}

check_kustomization() {
    local rendered version
    rendered=$(kubectl kustomize "$1/kubernetes") || return 1
    for version in "${kubernetes_versions[@]}"; do
        validate_kubernetes_stream "$version" - <<<"$rendered" || return 1
    done
}

check_compose() {
    local output
    output=$(check-jsonschema --builtin-schema vendor.compose-spec "$1/compose.yaml" 2>&1) || {
        echo "$output"
        return 1
    }
}

check_dockerfile() {
    hadolint "$1/Dockerfile"
}

check_policy() {
    local output
    output=$(python3 deploy/checks/policy.py "$1" 2>&1) || {
        echo "$output"
        return 1
    }
}

# Runs one check on the real deploy/ folder, which must pass.
expect_valid() {
    local name=$1 check=$2
    local output
    if output=$("$check" deploy 2>&1); then
        echo "ok      $name"
        passed=$((passed + 1))
    else
        echo "FAILED  $name"
        echo "$output" | sed 's/^/        /'
        failed=$((failed + 1))
    fi
}

# Copies deploy/, edits one file of the copy with a sed script, and requires
# the check to reject the copy. An edit that changes nothing is a failure, so
# a drifted pattern cannot pass unnoticed.
expect_rejected() {
    local name=$1 check=$2 file=$3 edit=$4
    local copy
    copy=$(mktemp -d "$scratch/case.XXXXXX")/deploy
    cp -R deploy "$copy"
    sed -i -e "$edit" "$copy/$file"

    if cmp -s "deploy/$file" "$copy/$file"; then
        echo "FAILED  rejects $name: the edit did not change $file"
        failed=$((failed + 1))
    elif "$check" "$copy" >/dev/null 2>&1; then
        echo "FAILED  rejects $name: the broken copy was accepted"
        failed=$((failed + 1))
    else
        echo "ok      rejects $name"
        passed=$((passed + 1))
    fi
}

install_validators
export PATH="$PWD/$venv/bin:$PATH"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

expect_valid "YAML syntax and duplicate keys" check_yaml
expect_valid "Kubernetes schemas ${kubernetes_versions[*]}" check_kubernetes
if command -v kubectl >/dev/null; then
    expect_valid "kustomization renders and validates" check_kustomization
else
    echo "skipped kustomization render: kubectl is not installed"
fi
expect_valid "Compose Specification schema" check_compose
expect_valid "Dockerfile lint" check_dockerfile
expect_valid "security and wiring policy" check_policy

expect_rejected "a duplicate YAML key" check_yaml \
    kubernetes/configmap.yaml '$a\  RUST_LOG: debug'
expect_rejected "a field of the wrong type" check_kubernetes \
    kubernetes/deployment.yaml 's/replicas: 2$/replicas: two/'
expect_rejected "an unknown field" check_kubernetes \
    kubernetes/deployment.yaml 's/allowPrivilegeEscalation: false/allowPrivilegeEscalations: false/'
expect_rejected "an unknown kind" check_kubernetes \
    kubernetes/hpa.yaml 's/^kind: HorizontalPodAutoscaler$/kind: HorizontalPodAutoscaller/'
expect_rejected "an unknown compose key" check_compose \
    compose.yaml 's/^    read_only: true$/    read_only: true\n    read_only_root: true/'
expect_rejected "an unpinned package install" check_dockerfile \
    Dockerfile '$a RUN apt-get update && apt-get install -y curl'
expect_rejected "a writable root file system" check_policy \
    kubernetes/deployment.yaml 's/readOnlyRootFilesystem: true/readOnlyRootFilesystem: false/'
expect_rejected "a Service that selects no pod" check_policy \
    kubernetes/service.yaml 's/component: gateway$/component: gatway/'
expect_rejected "a master key in the ConfigMap" check_policy \
    kubernetes/configmap.yaml '$a\  SANDNOTES_MASTER_KEY: c2VjcmV0'
expect_rejected "a master key written in the compose file" check_policy \
    compose.yaml 's/SANDNOTES_MASTER_KEY: \$.*$/SANDNOTES_MASTER_KEY: c2VjcmV0/'
expect_rejected "a manifest missing from the kustomization" check_policy \
    kubernetes/kustomization.yaml '/- pdb.yaml/d'
expect_rejected "an undefined collector exporter" check_policy \
    otel-collector.yaml 's|exporters: \[otlp/jaeger\]|exporters: [otlp/tempo]|'

echo "validate-deploy: $passed passed, $failed failed"
[[ $failed -eq 0 ]]

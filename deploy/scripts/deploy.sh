#!/usr/bin/env bash
# Deploys one environment (staging | production) at image digests:
#   deploy/scripts/deploy.sh ENV API_IMAGE@sha256:… BACKUP_IMAGE@sha256:…
# Renders deploy/k8s/overlays/ENV with the digests pinned, applies
# everything but the api and worker, runs the migration Job to completion,
# then rolls out the api and worker and waits for them. Needs kubectl with
# a context for the cluster (KUBECONFIG). Used by .github/workflows/deploy.yml.
set -euo pipefail
env="${1:?usage: deploy.sh staging|production API_IMAGE@DIGEST BACKUP_IMAGE@DIGEST}"
api_image="${2:?API image with digest}"
backup_image="${3:?backup image with digest}"
case "$env" in staging | production) ;; *) echo "deploy.sh: unknown environment $env" >&2; exit 2 ;; esac
[[ "$api_image" == *@sha256:* && "$backup_image" == *@sha256:* ]] || { echo "deploy.sh: deploy by digest" >&2; exit 2; }

root="$(cd "$(dirname "$0")/../.." && pwd)"
ns="vitalgraph-$env"
work="$(mktemp -d "$root/deploy/k8s/overlays/.release-XXXXXX")"
trap 'rm -rf "$work"' EXIT
cat >"$work/kustomization.yaml" <<YAML
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../$env
images:
  - name: ghcr.io/vitalgraph/vitalgraph
    newName: ${api_image%@*}
    digest: ${api_image#*@}
  - name: ghcr.io/vitalgraph/vitalgraph-backup
    newName: ${backup_image%@*}
    digest: ${backup_image#*@}
YAML
kubectl kustomize "$work" >"$work/rendered.yaml"

# The migration Job is immutable: replace it, and everything it needs, first.
kubectl -n "$ns" delete job vitalgraph-migrate --ignore-not-found --wait=true
kubectl apply -f "$work/rendered.yaml" -l 'app.kubernetes.io/component notin (api,worker)'
kubectl -n "$ns" wait --for=condition=complete --timeout=15m job/vitalgraph-migrate || {
  kubectl -n "$ns" logs job/vitalgraph-migrate --tail=200 >&2 || true
  echo "deploy.sh: migration failed; the api and worker were not rolled out" >&2
  exit 1
}
kubectl apply -f "$work/rendered.yaml"
kubectl -n "$ns" rollout status deployment/vitalgraph-api --timeout=10m
kubectl -n "$ns" rollout status deployment/vitalgraph-worker --timeout=10m
echo "deployed $api_image to $env"

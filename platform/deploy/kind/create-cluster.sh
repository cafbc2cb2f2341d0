#!/usr/bin/env bash
# Create the kind cluster `acme` with a local image registry at localhost:5001, the recipe of
# https://kind.sigs.k8s.io/docs/user/local-registry/. Idempotent: reuses what already exists.
# Needs docker and kind on PATH. Environment: KIND_CLUSTER (acme), REGISTRY_NAME
# (kind-registry), REGISTRY_PORT (5001).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cluster="${KIND_CLUSTER:-acme}"
reg_name="${REGISTRY_NAME:-kind-registry}"
reg_port="${REGISTRY_PORT:-5001}"

for tool in docker kind kubectl; do
  command -v "$tool" >/dev/null || { echo "create-cluster: $tool is not installed" >&2; exit 1; }
done

# 1. The registry container (registry:2), published on 127.0.0.1 only.
if [ "$(docker inspect -f '{{.State.Running}}' "$reg_name" 2>/dev/null || true)" != "true" ]; then
  docker rm -f "$reg_name" >/dev/null 2>&1 || true
  docker run -d --restart=always -p "127.0.0.1:${reg_port}:5000" --network bridge \
    --name "$reg_name" registry:2
fi

# 2. The cluster, with containerd reading registry hosts from /etc/containerd/certs.d.
if ! kind get clusters | grep -qx "$cluster"; then
  kind create cluster --name "$cluster" --config "$here/cluster.yaml"
fi

# 3. On every node: localhost:${reg_port} means the registry container.
registry_dir="/etc/containerd/certs.d/localhost:${reg_port}"
for node in $(kind get nodes --name "$cluster"); do
  docker exec "$node" mkdir -p "$registry_dir"
  printf '[host."http://%s:5000"]\n' "$reg_name" | docker exec -i "$node" cp /dev/stdin "$registry_dir/hosts.toml"
done

# 4. The registry joins the kind network so nodes reach it by name.
if [ "$(docker inspect -f='{{json .NetworkSettings.Networks.kind}}' "$reg_name")" = "null" ]; then
  docker network connect kind "$reg_name"
fi

# 5. Advertise the registry (KEP-1755): Tilt reads this ConfigMap and pushes there by itself.
kubectl --context "kind-${cluster}" apply -f - <<YAML
apiVersion: v1
kind: ConfigMap
metadata:
  name: local-registry-hosting
  namespace: kube-public
data:
  localRegistryHosting.v1: |
    host: "localhost:${reg_port}"
    help: "https://kind.sigs.k8s.io/docs/user/local-registry/"
YAML

echo "cluster kind-${cluster} ready, registry localhost:${reg_port}: run \`tilt up\`"

"""What the overlays take of the services, as kustomize Components, and PostgreSQL's side.

- ``components/services-dev``: every workload, development-only Secrets (each database
  owner's URL, the PostgreSQL role passwords, each ``cluster.secrets`` key) and the
  copy-source init container that live update needs;
- ``components/services-prod``: every workload, two replicas at a pinned tag, a
  PodDisruptionBudget and an autoscaler each, the NetworkPolicies of ``netpol.py``;
- ``postgres/init/10-databases.sh``: one role and one database per database owner;
- ``components/observability/tracing-endpoint.yaml``: every service's OTLP endpoint.

The overlays list the components and name no service. A component is processed in the
overlay's context: the namespace and the generated Secrets' hash suffixes reach it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from stackkit.cluster import DATABASE_URL_KEY
from stackkit.k8s import GENERATED, IMAGE_PREFIX, UID, secret_env, secret_name
from stackkit.manifest import ServiceManifest
from stackkit.netpol import POSTGRES, POSTGRES_PORT, networkpolicies
from stackkit.workload import container_security

__all__ = [
    "DEV",
    "INIT_SCRIPT",
    "PROD",
    "PROD_REPLICAS",
    "RELEASE_TAG",
    "components",
    "database_role",
    "postgres_init",
    "tracing_endpoint",
]

DEV = "platform/deploy/components/services-dev"
PROD = "platform/deploy/components/services-prod"
INIT_SCRIPT = "platform/deploy/postgres/init/10-databases.sh"
TRACING = "platform/deploy/components/observability/tracing-endpoint.yaml"
OTLP_ENDPOINT = "http://otel-collector:4317"
# The image tag prod pins (the project's version); a release sets its own with
# `kustomize edit set image` on its copy.
RELEASE_TAG = "0.1.0"
PROD_REPLICAS = 2
MAX_REPLICAS = 6


def database_role(manifest: ServiceManifest) -> str:
    return f"{manifest.name}_service"


def _dev_secret(manifest: ServiceManifest, key: str) -> str:
    if key == DATABASE_URL_KEY:
        return (
            f"postgresql+psycopg://{database_role(manifest)}:dev-{manifest.name}"
            f"@{POSTGRES}:{POSTGRES_PORT}/{manifest.name}"
        )
    return f"dev-only-{key}-0123456789"


def _secret_keys(manifest: ServiceManifest) -> list[str]:
    return list(secret_env(manifest))


def components(manifests: Sequence[ServiceManifest]) -> dict[str, str]:
    owners = [m for m in manifests if m.database]
    with_secrets = [m for m in manifests if _secret_keys(m)]
    generators = (
        "  - name: postgres-secrets\n    literals:\n      - postgres-password=dev-postgres\n"
    )
    generators += "".join(f"      - {m.name}-password=dev-{m.name}\n" for m in owners)
    for m in with_secrets:
        generators += f"  - name: {secret_name(m)}\n    literals:\n"
        generators += "".join(f"      - {k}={_dev_secret(m, k)}\n" for k in _secret_keys(m))
    dev = f"""# {GENERATED}
apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
# The services in the dev overlay: every workload, development-only Secrets (prod expects
# the same Secrets, same keys, from a secret store) and the copy-source init containers
# that seed the /app emptyDir Tilt's live update writes into (the overlay's live-update.yaml).
resources:
  - ../../services
secretGenerator:
{generators}patches:
  - path: copy-source.yaml
"""
    store = "".join(f"#   {secret_name(m)}: {', '.join(_secret_keys(m))}\n" for m in with_secrets)
    passwords = ", ".join(["postgres-password", *(f"{m.name}-password" for m in owners)])
    replicas = "".join(f"  - name: {m.name}\n    count: {PROD_REPLICAS}\n" for m in manifests)
    images = "".join(
        f'  - name: {IMAGE_PREFIX}{m.name}\n    newTag: "{RELEASE_TAG}"\n' for m in manifests
    )
    prod = f"""# {GENERATED}
apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
# The services in the prod overlay: every workload with {PROD_REPLICAS} replicas at a pinned tag, a
# PodDisruptionBudget and an autoscaler each, and NetworkPolicies from the declared calls
# (the overlay denies everything else). The Secrets come from a secret store, with the keys
# of the dev component's development values:
#   postgres-secrets: {passwords}
{store}resources:
  - ../../services
  - pdb.yaml
  - hpa.yaml
  - networkpolicies.yaml
replicas:
{replicas}images:
{images}"""
    return {
        f"{DEV}/kustomization.yaml": dev,
        f"{DEV}/copy-source.yaml": _documents(_copy_source(m) for m in manifests),
        f"{PROD}/kustomization.yaml": prod,
        f"{PROD}/pdb.yaml": _documents(_budget(m) for m in manifests),
        f"{PROD}/hpa.yaml": _documents(_autoscaler(m) for m in manifests),
        f"{PROD}/networkpolicies.yaml": networkpolicies(manifests, GENERATED),
    }


def _documents(documents: Iterable[str]) -> str:
    return f"# {GENERATED}\n" + "---\n".join(documents)


def _copy_source(manifest: ServiceManifest) -> str:
    return f"""# Seeds the /app emptyDir that Tilt's live update writes into (dev only).
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {manifest.name}
spec:
  template:
    spec:
      initContainers:
        - name: copy-source
          image: {IMAGE_PREFIX}{manifest.name}
          imagePullPolicy: IfNotPresent
          command: ["cp", "-R", "/app/.", "/src/"]
          resources:
            requests:
              cpu: 50m
              memory: 32Mi
            limits:
              cpu: 500m
              memory: 128Mi
{container_security(UID)}          volumeMounts:
            - name: src
              mountPath: /src
"""


def _budget(manifest: ServiceManifest) -> str:
    return f"""apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {manifest.name}
  labels:
    app.kubernetes.io/name: {manifest.name}
spec:
  minAvailable: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: {manifest.name}
"""


def _autoscaler(manifest: ServiceManifest) -> str:
    return f"""apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {manifest.name}
  labels:
    app.kubernetes.io/name: {manifest.name}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {manifest.name}
  minReplicas: {PROD_REPLICAS}
  maxReplicas: {MAX_REPLICAS}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: 70
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 300
"""


# The init script after its header: `create <service>` lines follow it.
_INIT = """# One role (<service>_service) and one database (<service>) per service that owns
# one; each role's password is the <service>-password key of the postgres-secrets Secret,
# which the StatefulSet mounts as files. Runs on an empty data directory
# (docker-entrypoint-initdb.d of the postgres image), and is safe to run again: what exists
# stays, passwords follow the Secret. For a database service newer than the cluster's data:
#   kubectl exec statefulset/postgres -- /docker-entrypoint-initdb.d/10-databases.sh
set -eu

secrets="${POSTGRES_SECRETS:-/etc/postgres-secrets}"
PGPASSWORD="$(cat "$secrets/postgres-password")"
export PGPASSWORD

create() {
  password="$(cat "$secrets/$1-password")"
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \\
    --set=role="${1}_service" --set=database="$1" --set=password="$password" <<'SQL'
SELECT format('CREATE ROLE %I', :'role')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \\gexec
ALTER ROLE :"role" LOGIN PASSWORD :'password';
SELECT format('CREATE DATABASE %I OWNER %I', :'database', :'role')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'database') \\gexec
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
SQL
}

"""


def postgres_init(manifests: Sequence[ServiceManifest]) -> dict[str, str]:
    creates = "".join(f"create {m.name}\n" for m in manifests if m.database)
    return {INIT_SCRIPT: f"#!/bin/sh\n# {GENERATED}\n" + _INIT + creates}


def tracing_endpoint(manifests: Sequence[ServiceManifest]) -> dict[str, str]:
    patches = (
        f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: {m.name}-config
data:
  {m.variable("tracing.otlp_endpoint")}: {OTLP_ENDPOINT}
"""
        for m in manifests
    )
    header = (
        "# The observability component's patch: every service exports its spans to the\n"
        "# collector (*_TRACING__OTLP_ENDPOINT in its ConfigMap, read through envFrom).\n"
    )
    return {TRACING: f"# {GENERATED}\n{header}" + "---\n".join(patches)}

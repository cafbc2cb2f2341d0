"""Every service's Kubernetes workload, from one template: ``platform/deploy/services/``.

One file per service (ServiceAccount, ConfigMap, Deployment, Service) and the kustomization
that lists them; the overlays' components (``overlays.py``) take them in. The two kinds
differ only where they must: a grpc service answers gRPC health probes (started and alive:
the ``liveness`` health service; ready: the overall status), the gateway HTTP ones
(``/healthz``, ``/readyz``). A service that owns a database migrates it in an init container
before every new pod. Every container runs as a non-root user on a read-only root file
system, with no privilege, no capability, the runtime's seccomp profile, resource requests
and limits, and a small writable ``/tmp``. Names and settings come from ``k8s.py``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import yaml

from stackkit.k8s import (
    BASE,
    GENERATED,
    IMAGE_PREFIX,
    LIVENESS_SERVICE,
    PRESTOP_SECONDS,
    TERMINATION_GRACE_SECONDS,
    UID,
    config,
    resources,
    secret_env,
    secret_name,
)
from stackkit.manifest import ServiceManifest

__all__ = ["bases", "container_security"]


def bases(manifests: Sequence[ServiceManifest]) -> dict[str, str]:
    files = {f"{BASE}/{m.name}.yaml": _workload(m, manifests) for m in manifests}
    listed = "".join(f"  - {m.name}.yaml\n" for m in sorted(manifests, key=lambda m: m.name))
    files[f"{BASE}/kustomization.yaml"] = f"""# {GENERATED}
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
# Every service's workload, one file each, from one template (platform/stackkit/k8s.py).
# Images are named {IMAGE_PREFIX}<service>: Tilt builds them (dev), the prod component pins tags.
labels:
  - pairs:
      app.kubernetes.io/part-of: acme
    includeSelectors: false
    includeTemplates: true
resources:
{listed}"""
    return files


def _scalar(text: str) -> str:
    """``text`` as a YAML string: bare when YAML reads it back as that string, else quoted."""
    plain = text and text == text.strip() and "#" not in text and ": " not in text
    return text if plain and yaml.safe_load(text) == text else json.dumps(text)


def _workload(manifest: ServiceManifest, manifests: Sequence[ServiceManifest]) -> str:
    name = manifest.name
    face = "gRPC" if manifest.kind == "grpc" else "REST (/healthz, /readyz)"
    settings = "".join(
        f"  {variable}: {_scalar(text)}\n" for variable, text in config(manifest, manifests).items()
    )
    secrets = f"the {secret_name(manifest)} Secret" if secret_env(manifest) else "no Secret"
    return f"""# {GENERATED}
# {name}: {face} on {manifest.serve_port}, Prometheus metrics on {manifest.metrics_port}.
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {name}
  labels:
    app.kubernetes.io/name: {name}
automountServiceAccountToken: false
---
# Non-secret settings as {manifest.env_prefix}_<SECTION>__<KEY> variables; secrets: {secrets}
# (the dev component generates it, prod expects it from a secret store) through secretKeyRef.
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}-config
  labels:
    app.kubernetes.io/name: {name}
data:
{settings}---
{_deployment(manifest)}---
{_service(manifest)}"""


def _deployment(manifest: ServiceManifest) -> str:
    name = manifest.name
    port = "grpc" if manifest.kind == "grpc" else "http"
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels:
    app.kubernetes.io/name: {name}
    app.kubernetes.io/component: service
spec:
  replicas: 1
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      app.kubernetes.io/name: {name}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      # Never below the desired replicas during a rollout.
      maxUnavailable: 0
      maxSurge: 1
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {name}
        app.kubernetes.io/component: service
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: "{manifest.metrics_port}"
        prometheus.io/path: /metrics
    spec:
      serviceAccountName: {name}
      automountServiceAccountToken: false
      # Above the preStop pause ({PRESTOP_SECONDS} s) plus the service's drain time (grace_seconds).
      terminationGracePeriodSeconds: {TERMINATION_GRACE_SECONDS}
      enableServiceLinks: false
      securityContext:
        runAsNonRoot: true
        runAsUser: {UID}
        runAsGroup: {UID}
        fsGroup: {UID}
        seccompProfile:
          type: RuntimeDefault
{_migrate(manifest)}      containers:
        - name: {name}
          image: {IMAGE_PREFIX}{name}
          imagePullPolicy: IfNotPresent
          args: ["serve"]
          lifecycle:
            # Keep serving while the endpoint removal reaches every node and client, then
            # SIGTERM starts the drain: no new call lands on a server that refuses it.
            preStop:
              sleep:
                seconds: {PRESTOP_SECONDS}
          ports:
            - name: {port}
              containerPort: {manifest.serve_port}
              protocol: TCP
            - name: metrics
              containerPort: {manifest.metrics_port}
              protocol: TCP
          envFrom:
            - configMapRef:
                name: {name}-config
{_env(manifest)}{_probes(manifest)}{_hardening(manifest)}      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
"""


def _migrate(manifest: ServiceManifest) -> str:
    if not manifest.database:
        return ""
    return f"""      initContainers:
        # Migrations run before every new pod; alembic upgrades are idempotent.
        - name: migrate
          image: {IMAGE_PREFIX}{manifest.name}
          imagePullPolicy: IfNotPresent
          args: ["migrate"]
          envFrom:
            - configMapRef:
                name: {manifest.name}-config
{_env(manifest)}{_hardening(manifest)}"""


def _env(manifest: ServiceManifest) -> str:
    entries = "".join(
        f"""            - name: {manifest.variable(setting)}
              valueFrom:
                secretKeyRef:
                  name: {secret_name(manifest)}
                  key: {key}
"""
        for key, setting in secret_env(manifest).items()
    )
    return f"          env:\n{entries}" if entries else ""


def _probes(manifest: ServiceManifest) -> str:
    if manifest.kind == "gateway":
        return """          startupProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: 2
            failureThreshold: 30
          readinessProbe:
            httpGet:
              path: /readyz
              port: http
            periodSeconds: 5
            timeoutSeconds: 2
            failureThreshold: 2
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: 10
            timeoutSeconds: 2
            failureThreshold: 3
"""
    port = manifest.serve_port
    return f"""          # Started and alive: the `{LIVENESS_SERVICE}` health service, SERVING while
          # the process runs. Ready: the overall status (with a database: SERVING only while
          # it answers), so an outage takes the pod out of the Service without a restart.
          startupProbe:
            grpc:
              port: {port}
              service: {LIVENESS_SERVICE}
            periodSeconds: 2
            failureThreshold: 30
          readinessProbe:
            grpc:
              port: {port}
            periodSeconds: 5
            timeoutSeconds: 2
            failureThreshold: 2
          livenessProbe:
            grpc:
              port: {port}
              service: {LIVENESS_SERVICE}
            periodSeconds: 10
            timeoutSeconds: 2
            failureThreshold: 3
"""


def _hardening(manifest: ServiceManifest) -> str:
    """Resources, security context and the writable /tmp of every container of a service."""
    requests, limits = resources(manifest)
    return f"""          resources:
            requests:
              cpu: {_scalar(requests["cpu"])}
              memory: {_scalar(requests["memory"])}
            limits:
              cpu: {_scalar(limits["cpu"])}
              memory: {_scalar(limits["memory"])}
{container_security(UID)}          volumeMounts:
            - name: tmp
              mountPath: /tmp
"""


def container_security(uid: int) -> str:
    """The restricted security context of a container (10 spaces in), as text."""
    return f"""          securityContext:
            runAsNonRoot: true
            runAsUser: {uid}
            runAsGroup: {uid}
            readOnlyRootFilesystem: true
            allowPrivilegeEscalation: false
            privileged: false
            capabilities:
              drop: ["ALL"]
            seccompProfile:
              type: RuntimeDefault
"""


def _service(manifest: ServiceManifest) -> str:
    name = manifest.name
    if manifest.kind == "grpc":
        serve = f"""    - name: grpc
      port: {manifest.serve_port}
      targetPort: grpc
      protocol: TCP
      appProtocol: kubernetes.io/h2c
"""
    else:
        serve = f"""    - name: http
      port: {manifest.serve_port}
      targetPort: http
      protocol: TCP
"""
    return f"""apiVersion: v1
kind: Service
metadata:
  name: {name}
  labels:
    app.kubernetes.io/name: {name}
spec:
  type: ClusterIP
  selector:
    app.kubernetes.io/name: {name}
  ports:
{serve}    - name: metrics
      port: {manifest.metrics_port}
      targetPort: metrics
      protocol: TCP
"""

#!/usr/bin/python3
"""Lint rendered Kubernetes manifests (kubectl kustomize output) offline.

Checks the structure every object needs and sm's own rules: workloads run
as non-root without capabilities and with resource requests and limits;
receivers have /health probes and a Service that really selects them;
the collector reads the node's /proc read-only and sends to Services that
exist; no password or Secret object appears in the manifests.

    kubectl kustomize deploy/k8s | tests/deploy/k8s_lint.py
"""
import re
import sys

import yaml

KNOWN = {
    ("v1", "Namespace"), ("v1", "ConfigMap"), ("v1", "Service"),
    ("apps/v1", "Deployment"), ("apps/v1", "DaemonSet"),
    ("apps/v1", "StatefulSet"), ("batch/v1", "CronJob"),
}
WORKLOADS = {"Deployment", "DaemonSet", "StatefulSet"}
EXTERNAL_SECRETS = {"sm-db", "sm-db-root"}

errors = []


def err(obj, msg):
    kind = obj.get("kind", "?")
    name = obj.get("metadata", {}).get("name", "?")
    errors.append(f"{kind}/{name}: {msg}")


def containers(pod):
    return pod.get("initContainers", []) + pod.get("containers", [])


def check_container(obj, c):
    where = f"container {c.get('name')}"
    if not c.get("image"):
        err(obj, f"{where}: no image")
    res = c.get("resources", {})
    for part in ("requests", "limits"):
        for r in ("cpu", "memory"):
            if r not in res.get(part, {}):
                err(obj, f"{where}: no resources.{part}.{r}")
    sc = c.get("securityContext", {})
    if sc.get("allowPrivilegeEscalation") is not False:
        err(obj, f"{where}: allowPrivilegeEscalation is not false")
    if "ALL" not in sc.get("capabilities", {}).get("drop", []):
        err(obj, f"{where}: capabilities not dropped")
    if sc.get("privileged"):
        err(obj, f"{where}: privileged")
    for e in c.get("env", []):
        if "value" in e and re.search(r"pass|secret|token", e["name"], re.I):
            err(obj, f"{where}: {e['name']} given in the manifest")
        ref = e.get("valueFrom", {}).get("secretKeyRef")
        if ref and ref.get("name") not in EXTERNAL_SECRETS:
            err(obj, f"{where}: unknown Secret {ref.get('name')}")


# sm-store --listen's defaults (lib/httpd.h) and what it holds at worst:
# a body and its decoded rows (~2.5 bodies) per connection, a JSON array's
# parse tree (~10 bodies) per HTTP thread, ~16 MiB besides (measured:
# 11 MiB idle, +11 MiB for one 1 MiB array).  sm-store(1), --max-body.
STORE_DEFAULTS = {"--max-body": 1 << 20, "--max-connections": 256,
                  "--threads": 1}
UNITS = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "": 1}


def store_worst_bytes(args):
    opt = dict(STORE_DEFAULTS)
    for i, a in enumerate(args[:-1]):
        if a in opt:
            opt[a] = int(args[i + 1])
    return (16 << 20) + opt["--max-body"] * (
        opt["--max-connections"] * 5 // 2 + opt["--threads"] * 10)


def quantity_bytes(q):
    m = re.fullmatch(r"(\d+)(Ki|Mi|Gi|)", str(q))
    return int(m.group(1)) * UNITS[m.group(2)] if m else 0


def pod_labels_match(selector, labels):
    return all(labels.get(k) == v for k, v in selector.items())


def check_served(d, c, labels, svc):
    """An HTTP server's container c: probes on a named port, liveness on
    /health, a Service of its name selecting it; its readiness httpGet."""
    ports = {p.get("name"): p.get("containerPort")
             for p in c.get("ports", [])}
    rp = c.get("readinessProbe", {}).get("httpGet", {})
    if rp.get("port") not in ports:
        err(d, "readiness probe not on a named container port")
    lp = c.get("livenessProbe", {})
    if not lp or "/health" not in yaml.safe_dump(lp):
        err(d, "liveness probe does not use /health")
    if svc is None:
        err(d, "no Service of the same name")
    elif not pod_labels_match(svc["spec"]["selector"], labels):
        err(svc, "selects no pod of its Deployment")
    elif any(p.get("targetPort") not in ports and
             p.get("targetPort") not in ports.values()
             for p in svc["spec"]["ports"]):
        err(svc, "targetPort is no container port")
    return rp


def check_pod(d, pod, configmaps):
    """A workload's or CronJob's pod: non-root, its containers, their env."""
    if pod.get("securityContext", {}).get("runAsNonRoot") is not True:
        err(d, "pod not runAsNonRoot")
    if pod.get("hostNetwork") or pod.get("hostPID"):
        err(d, "host network or PID namespace")
    for c in containers(pod):
        check_container(d, c)
        for e in c.get("env", []):
            ref = e.get("valueFrom", {}).get("configMapKeyRef")
            if ref and (ref.get("name") not in configmaps or
                        ref.get("key") not in configmaps[ref["name"]]):
                err(d, f"{e['name']}: no ConfigMap key {ref}")


def check_cronjob(d, configmaps):
    """A CronJob's pod: non-root, its containers as a workload's."""
    pod = (d.get("spec", {}).get("jobTemplate", {}).get("spec", {})
           .get("template", {}).get("spec", {}))
    check_pod(d, pod, configmaps)
    if d.get("spec", {}).get("concurrencyPolicy") != "Forbid":
        err(d, "concurrencyPolicy is not Forbid")
    if not any("sm-keep" in " ".join(c.get("args", []))
               for c in containers(pod)):
        err(d, "does not run sm-keep")


def main():
    docs = [d for d in yaml.safe_load_all(sys.stdin) if d]
    if not docs:
        print("k8s_lint: no objects", file=sys.stderr)
        return 1
    configmaps = {}
    services = {}
    for d in docs:
        if (d.get("apiVersion"), d.get("kind")) not in KNOWN:
            err(d, f"unexpected apiVersion/kind {d.get('apiVersion')}")
        meta = d.get("metadata", {})
        if not meta.get("name"):
            err(d, "no metadata.name")
        if d.get("kind") != "Namespace" and meta.get("namespace") != "sm":
            err(d, "not in namespace sm")
        if d.get("kind") == "Secret":
            err(d, "a Secret in the manifests")
        if d.get("kind") == "ConfigMap":
            configmaps[meta["name"]] = d.get("data", {})
            for k, v in d.get("data", {}).items():
                if re.match(r"mysql://[^@/]*:[^@/]*@", str(v)):
                    err(d, f"{k}: a password in the URL")
        if d.get("kind") == "Service":
            services[meta["name"]] = d
    pods = {}
    for d in docs:
        if d.get("kind") == "CronJob":
            check_cronjob(d, configmaps)
            pods[d["metadata"]["name"]] = (d, {}, {})
            continue
        if d.get("kind") not in WORKLOADS:
            continue
        spec = d.get("spec", {})
        tmpl = spec.get("template", {})
        labels = tmpl.get("metadata", {}).get("labels", {})
        sel = spec.get("selector", {}).get("matchLabels", {})
        if not sel or not pod_labels_match(sel, labels):
            err(d, "selector does not match the pod template's labels")
        pod = tmpl.get("spec", {})
        check_pod(d, pod, configmaps)
        pods[d["metadata"]["name"]] = (d, labels, pod)
    receivers = [n for n in pods if n.startswith("sm-store-")]
    if sorted(receivers) != ["sm-store-a", "sm-store-b"]:
        err({"kind": "Deployment"}, f"want receivers a and b: {receivers}")
    for n in receivers:
        d, labels, pod = pods[n]
        c = pod["containers"][0]
        rp = check_served(d, c, labels, services.get(n))
        if rp.get("path") != "/health":
            err(d, "readiness probe is not GET /health on a named port")
        args = " ".join(c.get("args", []) + c.get("command", []))
        worst = store_worst_bytes(c.get("args", []))
        limit = quantity_bytes(c.get("resources", {}).get("limits", {})
                               .get("memory"))
        if worst > limit:
            err(d, f"worst-case memory {worst >> 20} MiB (--max-body x "
                f"--max-connections) over the limit {limit >> 20} MiB")
        route = n[len("sm-store-"):]
        if f"--source route-{route}" not in args or "--listen" not in args:
            err(d, f"not sm-store --listen --source route-{route}: {args}")
    # sm-keep: the tiers and retention, a pass every minute
    if "sm-keep" not in pods or pods["sm-keep"][0]["kind"] != "CronJob":
        err({"kind": "CronJob"}, "no sm-keep CronJob")
    # sm-tail --listen: the dashboard, reachable through its Service
    if "sm-tail-web" not in pods:
        err({"kind": "Deployment"}, "no sm-tail-web (sm-tail --listen)")
    else:
        d, labels, pod = pods["sm-tail-web"]
        c = pod["containers"][0]
        args = " ".join(c.get("command", []) + c.get("args", []))
        if "sm-tail" not in args or "--listen 0.0.0.0:" not in args:
            err(d, f"not sm-tail --listen 0.0.0.0:PORT: {args}")
        check_served(d, c, labels, services.get("sm-tail-web"))
    collectors = [pods[n] for n in pods
                  if pods[n][0]["kind"] == "DaemonSet"]
    if len(collectors) != 1:
        err({"kind": "DaemonSet"}, "want one collector DaemonSet")
    for d, labels, pod in collectors:
        c = pod["containers"][0]
        script = " ".join(c.get("command", []) + c.get("args", []))
        for want in ("sm-read", "sm-split", "--proc-root /host/proc",
                     "--journal /var/lib/sm/", "--spool"):
            if want not in script:
                err(d, f"collector command lacks {want}")
        for host, port in re.findall(r"http://([a-z0-9-]+):(\d+)/metrics",
                                     script):
            svc = services.get(host)
            if svc is None or int(port) not in [
                    p["port"] for p in svc["spec"]["ports"]]:
                err(d, f"sends to {host}:{port}, which is no Service")
        vols = {v["name"]: v for v in pod.get("volumes", [])}
        mounts = [m for m in c.get("volumeMounts", [])
                  if m.get("mountPath") == "/host/proc"]
        if (not mounts or not mounts[0].get("readOnly") or
                vols.get(mounts[0]["name"], {}).get("hostPath", {})
                .get("path") != "/proc"):
            err(d, "node /proc not mounted read-only at /host/proc")
    for e in errors:
        print("k8s_lint:", e, file=sys.stderr)
    print(f"k8s_lint: {len(docs)} objects, {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

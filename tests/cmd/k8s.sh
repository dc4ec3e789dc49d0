#!/bin/sh
# deploy/k8s: both kustomizations render, the YAML is clean, and the
# rendered objects pass tests/deploy/k8s_lint.py (which must also catch a
# broken manifest).
. "$(dirname "$0")/../lib.sh"

yamllint -s -d '{extends: default, rules: {line-length: {max: 100},
    document-start: disable}}' deploy/k8s
echo "yamllint: clean"
# Debian 12's own kubectl (kubernetes-client 1.20) predates directories in
# "resources:"; for it, render a copy that names them under "bases:", the
# older spelling of the same thing (newer kubectl warns on "bases:").
minor=$(kubectl version --client -o json | python3 -c \
    'import json, sys; print(json.load(sys.stdin)["clientVersion"]["minor"])')
K8S=deploy/k8s
if [ "${minor%+}" -lt 21 ]; then
	cp -r deploy/k8s "$SM_TMP/k8s"
	K8S=$SM_TMP/k8s
	python3 - "$K8S" <<'PY'
import os, sys, yaml
for top, _, files in os.walk(sys.argv[1]):
    if 'kustomization.yaml' not in files:
        continue
    p = os.path.join(top, 'kustomization.yaml')
    k = yaml.safe_load(open(p))
    res = k.get('resources', [])
    dirs = [r for r in res if os.path.isdir(os.path.join(top, r))]
    if dirs:
        k['bases'] = dirs
        k['resources'] = [r for r in res if r not in dirs]
        yaml.safe_dump(k, open(p, 'w'))
PY
	echo "kubectl 1.$minor: rendering with bases:"
fi
kustomize() {
	kubectl kustomize "$K8S/${1#deploy/k8s}"
}
for k in deploy/k8s deploy/k8s/galera deploy/k8s/tls deploy/k8s/mariadb; do
	kustomize "$k" >"$SM_TMP/render.yaml"
	tests/deploy/k8s_lint.py <"$SM_TMP/render.yaml"
done
grep -q 'SM_DB: mysql://sm@mariadb:3306/sm' "$SM_TMP/render.yaml" ||
    fail "the mariadb overlay does not point sm at its database"

echo "the tls overlay: sm-tail-web on HTTPS behind a login, from Secrets"
kustomize deploy/k8s/tls >"$SM_TMP/tls.yaml"
python3 - "$SM_TMP/tls.yaml" <<'PY' || fail "tls overlay"
import sys, yaml
docs = {(d["kind"], d["metadata"]["name"]): d
        for d in yaml.safe_load_all(open(sys.argv[1])) if d}
pod = docs[("Deployment", "sm-tail-web")]["spec"]["template"]["spec"]
c = pod["containers"][0]
args = " ".join(c["args"])
for want in ("--tls-cert /etc/sm/tls/tls.crt", "--tls-key /etc/sm/tls/tls.key",
             "--auth-file /etc/sm/auth/viewers",
             "--metrics-token-file /etc/sm/auth/metrics-token"):
    assert want in args, want
vols = {v["name"]: v["secret"]["secretName"] for v in pod["volumes"]}
assert vols == {"tls": "sm-tail-tls", "auth": "sm-tail-auth"}, vols
mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
assert mounts == {"tls": "/etc/sm/tls", "auth": "/etc/sm/auth"}, mounts
assert pod["securityContext"]["fsGroup"] == 10001
assert pod["securityContext"]["runAsNonRoot"] is True
assert c["readinessProbe"]["httpGet"]["scheme"] == "HTTPS"
assert "https://127.0.0.1:8090/health" in yaml.safe_dump(c["livenessProbe"])
PY

echo "the galera overlay: three nodes, a receiver on each of two"
kustomize deploy/k8s/galera >"$SM_TMP/galera.yaml"
python3 - "$SM_TMP/galera.yaml" <<'PY' || fail "galera overlay"
import sys, yaml
docs = {(d["kind"], d["metadata"]["name"]): d
        for d in yaml.safe_load_all(open(sys.argv[1])) if d}
cm = next(d for (k, _), d in docs.items() if k == "ConfigMap")["data"]
def db_of(name):
    c = docs[("Deployment", name)]["spec"]["template"]["spec"]["containers"][0]
    env = [e for e in c["env"] if e["name"] == "SM_DB"]
    assert len(env) == 1, env
    return cm[env[0]["valueFrom"]["configMapKeyRef"]["key"]]
sts = docs[("StatefulSet", "galera")]
assert sts["spec"]["replicas"] == 3
args = " ".join(sts["spec"]["template"]["spec"]["containers"][0]["command"])
for want in ("--wsrep-on=ON", "libgalera_smm.so", "--log-slave-updates=ON",
             "--innodb-autoinc-lock-mode=2", "--wsrep-new-cluster"):
    assert want in args, want
a, b = db_of("sm-store-a"), db_of("sm-store-b")
assert "galera-0.galera" in a and "galera-1.galera" in b, (a, b)
assert "galera-2.galera" in db_of("sm-tail-web")
assert docs[("Service", "galera")]["spec"]["publishNotReadyAddresses"]
PY

echo "the linter catches broken manifests"
kustomize deploy/k8s >"$SM_TMP/good.yaml"
broken() {
	sed "$1" "$SM_TMP/good.yaml" >"$SM_TMP/bad.yaml"
	cmp -s "$SM_TMP/good.yaml" "$SM_TMP/bad.yaml" && fail "sed $1 changed nothing"
	if tests/deploy/k8s_lint.py <"$SM_TMP/bad.yaml" 2>"$SM_TMP/err"; then
		fail "not caught: $1"
	fi
	expect_err "$2"
}
broken 's|path: /health|path: /|' "readiness probe is not GET /health"
broken 's|runAsNonRoot: true|runAsNonRoot: false|' "pod not runAsNonRoot"
broken 's|http://sm-store-b:8081|http://sm-store-c:8081|' "sm-store-c:8081, which is no Service"
broken 's|mysql://sm@|mysql://sm:hunter2@|' "a password in the URL"
broken '/readOnly: true/d' "node /proc not mounted read-only"
broken 's|memory: 64Mi|cpu: 1|' "no resources.limits.memory"
broken 's|- 0.0.0.0:8090|- 127.0.0.1:8090|' "not sm-tail --listen 0.0.0.0:PORT"
broken 's|name: sm-tail-web$|name: sm-tail-other|' "no sm-tail-web"
broken 's|"131072"|"1048576"|' "worst-case memory 666 MiB"
echo ok

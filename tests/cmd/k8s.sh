#!/bin/sh
# deploy/k8s: both kustomizations render, the YAML is clean, and the
# rendered objects pass tests/deploy/k8s_lint.py (which must also catch a
# broken manifest).
. "$(dirname "$0")/../lib.sh"

yamllint -s -d '{extends: default, rules: {line-length: {max: 100},
    document-start: disable}}' deploy/k8s
echo "yamllint: clean"
for k in deploy/k8s deploy/k8s/mariadb; do
	kubectl kustomize "$k" >"$SM_TMP/render.yaml"
	tests/deploy/k8s_lint.py <"$SM_TMP/render.yaml"
done
grep -q 'SM_DB: mysql://sm@mariadb:3306/sm' "$SM_TMP/render.yaml" ||
    fail "the mariadb overlay does not point sm at its database"

echo "the linter catches broken manifests"
kubectl kustomize deploy/k8s >"$SM_TMP/good.yaml"
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
echo ok

#!/usr/bin/env bash
# The backend track's base images and its registry, for real.  node:18-slim
# and node:18-alpine (stand-ins or pulled) have what the lessons and the checks
# rely on; the material's two-stage Dockerfile builds on them with both
# builders and its container becomes healthy; the registry that labs/setup
# starts answers on loopback only; a registry of this test's own (another
# port, a folder of its own) takes a push, serves the manifest under the pushed
# digest, deletes it, and stops when told; a non-loopback PHASELAB_REGISTRY
# starts nothing.  Needs `make images`, the Debian mirror and the npm registry
# (the build runs apt-get and npm ci), and root for the registry cases.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
need_tools "curl jq ss python3" "curl jq iproute2 python3"
make_tmp work images

ID=$$-$(date +%s)
TLABEL=org.phaselab.itest
TAG=phaselab-itest-images-$ID
# Everything this run made carries TLABEL=ID: remove it at the end.
on_exit "$(printf '%q' "$ENGINE_CLI") rm -f \$($(printf '%q' "$ENGINE_CLI") ps -aq --filter label=$TLABEL=$ID) >/dev/null 2>&1"
drun() { "$ENGINE_CLI" run --rm --label "$TLABEL=$ID" "$@"; }

for image in node:18-slim node:18-alpine; do
	if ! "$ENGINE_CLI" image inspect "$image" >/dev/null 2>&1; then
		note "images.sh: $image is missing (run make images)"
		exit 2
	fi
done

# --- node:18-slim -------------------------------------------------------------
out=$(drun --entrypoint /bin/sh node:18-slim -c '
	echo "node=$(node --version)"
	echo "ids=$(id -u node):$(id -g node) home=$(getent passwd node | cut -d: -f6)"
	echo "tools=$(command -v node) $(command -v npm) $(command -v npx)"
	echo "npm=$(npm --version)"
	echo "curl=$(command -v curl || echo none) wget=$(command -v wget || echo none)"
	echo "lists=$(ls -A /var/lib/apt/lists | tr "\n" " ")"
	echo "debs=$(find /var/cache/apt/archives -name "*.deb" | wc -l)"
	echo "sources=$(grep -h -E "^(URIs|Suites):" /etc/apt/sources.list.d/*.sources 2>/dev/null | tr "\n" " ")"' 2>&1)
field() { sed -n "s/^$1=//p" <<<"$out"; }
[[ $(field node) == v18.* ]] && ok "node:18-slim: node $(field node)" || bad "node:18-slim: node --version: $out"
[[ $(field ids) == "1000:1000 home=/home/node" ]] && ok "node:18-slim: user node 1000:1000, /home/node" ||
	bad "node:18-slim: user node: $(field ids)"
[[ $(field tools) == "/usr/local/bin/node /usr/local/bin/npm /usr/local/bin/npx" ]] &&
	ok "node:18-slim: node, npm, npx in /usr/local/bin (npm $(field npm))" || bad "node:18-slim: on PATH: $(field tools)"
[[ $(field curl) == "none wget=none" ]] && ok "node:18-slim: no curl, no wget" || bad "node:18-slim: curl=$(field curl)"
[[ $(field lists) == "lock partial " && $(field debs) == 0 ]] &&
	ok "node:18-slim: /var/lib/apt/lists holds lock and partial/ only, no .deb in the archives" ||
	bad "node:18-slim: lists: '$(field lists)', .debs: $(field debs)"
src=$(field sources)
if [[ $src == *"http://deb.debian.org/debian "* && $src == *bookworm-updates* && $src == *bookworm-security* ]]; then
	ok "node:18-slim: sources are deb.debian.org bookworm, -updates, -security"
else
	bad "node:18-slim: sources: $src"
fi
v=$(drun node:18-slim --version 2>&1)
[[ $v == v18.* ]] && ok "node:18-slim: the entrypoint runs node for a flag ($v)" || bad "node:18-slim: run --version: $v"
out=$(drun node:18-slim sh -c 'apt-get update -qq && apt-get install -y -qq --no-install-recommends curl >/dev/null && curl --version | head -n 1' 2>&1)
[[ $out == *"curl "* ]] && ok "node:18-slim: apt-get installs curl from the mirror" || bad "node:18-slim: apt-get: $(tail -n 3 <<<"$out")"

# --- node:18-alpine -----------------------------------------------------------
out=$(drun --entrypoint /bin/sh node:18-alpine -c '
	echo "sh=$(readlink -f /bin/sh)"
	echo "node=$(node --version) at $(command -v node)"
	echo "npm=$(npm --version) npx=$(npx --version)"
	echo "ids=$(id -u node):$(id -g node)"' 2>&1)
[[ $(field sh) == */busybox ]] && ok "node:18-alpine: /bin/sh is busybox" || bad "node:18-alpine: /bin/sh: $out"
[[ $(field node) == "v18."*" at /usr/local/bin/node" ]] && ok "node:18-alpine: node $(field node)" ||
	bad "node:18-alpine: node: $out"
[[ $(field npm) == [0-9]* && $(field ids) == 1000:1000 ]] && ok "node:18-alpine: npm $(field npm), user node 1000" ||
	bad "node:18-alpine: npm/node user: $out"

# --- the material's Dockerfile, both builders -------------------------------------
app=$work/app
mkdir -p "$app/src"
cat >"$app/package.json" <<'EOF'
{ "name": "phaselab-backend-probe", "version": "1.0.0", "private": true,
  "scripts": { "build": "node build.js" }, "dependencies": { "ms": "2.1.3" } }
EOF
cat >"$app/package-lock.json" <<'EOF'
{
  "name": "phaselab-backend-probe",
  "version": "1.0.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": { "name": "phaselab-backend-probe", "version": "1.0.0", "dependencies": { "ms": "2.1.3" } },
    "node_modules/ms": {
      "version": "2.1.3",
      "resolved": "https://registry.npmjs.org/ms/-/ms-2.1.3.tgz",
      "integrity": "sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==",
      "license": "MIT"
    }
  }
}
EOF
cat >"$app/build.js" <<'EOF'
const fs = require('fs');
fs.mkdirSync('dist', { recursive: true });
fs.copyFileSync('src/main.js', 'dist/main.js');
EOF
# The run's id in the source: no other build shares this one's layers.
cat >"$app/src/main.js" <<EOF
// phaselab images.sh $ID
const http = require('http');
const ms = require('ms');
http.createServer((req, res) => {
  if (req.url === '/health') { res.writeHead(200); res.end(JSON.stringify({ status: 'ok', up: ms(1000) })); return; }
  res.writeHead(404); res.end();
}).listen(3000);
EOF
printf 'node_modules\n' >"$app/.dockerignore"
cat >"$app/Dockerfile" <<'EOF'
FROM node:18-alpine AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build
FROM node:18-slim
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates wget && apt-get clean && rm -rf /var/lib/apt/lists/*
COPY --from=build /app/dist ./dist
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/package.json ./
ENV NODE_ENV=production
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD curl -f http://localhost:3000/health || exit 1
CMD ["node", "dist/main"]
EOF

for builder in legacy buildkit; do
	cli=$(builder_cli "$builder")
	if ! command -v "$cli" >/dev/null 2>&1; then
		note "images.sh: no CLI for the $builder builder ($cli)"; skipped=$((skipped + 1)); continue
	fi
	t0=$(now_ms)
	if ! DOCKER_BUILDKIT=$(builder_buildkit "$builder") "$cli" build --label "$TLABEL=$ID" -t "$TAG:$builder" "$app" \
		>"$work/build-$builder.log" 2>&1; then
		bad "$builder: the material's Dockerfile does not build: $(tail -n 5 "$work/build-$builder.log")"
		continue
	fi
	# The legacy builder leaves the build stage's image untagged: it is this run's.
	stage=$(awk '/^Step [0-9]+\/[0-9]+ : FROM node:18-slim/ { print last } /^ ---> [0-9a-f]+$/ { last = $2 }' \
		"$work/build-$builder.log")
	on_exit "$(printf '%q' "$cli") rmi -f $TAG:$builder $stage >/dev/null 2>&1"
	ok "$builder: the material's Dockerfile builds on node:18-alpine and node:18-slim ($(fmt_secs $(($(now_ms) - t0))) s)"
	# The image's own probe, run every second instead of after 30 s.
	c=$("$cli" run -d --label "$TLABEL=$ID" --health-interval=1s "$TAG:$builder" 2>&1)
	state() { "$cli" inspect --format '{{.State.Health.Status}}' "$c" 2>/dev/null; }
	healthy() { [[ $(state) == healthy ]]; }
	if wait_until 30 healthy; then
		ok "$builder: its container becomes healthy (curl -f http://localhost:3000/health)"
	else
		bad "$builder: health $(state): $("$cli" inspect --format '{{json .State.Health.Log}}' "$c" 2>&1 | head -c 400)"
	fi
	"$cli" rm -f "$c" >/dev/null 2>&1
done

# --- the registry labs/setup starts ------------------------------------------------
if [[ -n ${PHASELAB_REGISTRY:-} && ${PHASELAB_REGISTRY:-} != 127.0.0.1:5000 ]]; then
	note "images.sh: PHASELAB_REGISTRY=$PHASELAB_REGISTRY: the default registry is not checked"; skipped=$((skipped + 1))
elif code=$(curl --noproxy '*' -s -o /dev/null -w '%{http_code}' --max-time 2 http://127.0.0.1:5000/v2/) && [[ $code == 200 ]]; then
	ok "registry: GET http://127.0.0.1:5000/v2/ answers 200"
	addrs=$(ss -ltnH 'sport = :5000' | awk '{ print $4 }' | sort -u | tr '\n' ' ')
	if [[ -n $addrs && -z $(tr ' ' '\n' <<<"$addrs" | grep -v -E '^(127\.[0-9.]+|\[::1\]):5000$' | grep .) ]]; then
		ok "registry: port 5000 listens on loopback only ($addrs)"
	else
		bad "registry: port 5000 listens on: $addrs"
	fi
else
	bad "registry: nothing answers at http://127.0.0.1:5000/v2/ (labs/setup starts one; got ${code:-no answer})"
fi

# --- a registry of this test's own ---------------------------------------------------
if [[ $(id -u) != 0 ]]; then
	note "images.sh: not root: the registry start/stop cases are skipped"; skipped=$((skipped + 1))
	finish
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
chmod 0755 "$work"     # the registry runs as docker-registry and keeps its blobs below
export PHASELAB_REGISTRY=127.0.0.1:$port PHASELAB_REGISTRY_DIR=$work/store
on_exit "labs/registry/registry stop >/dev/null 2>&1"
if out=$(labs/registry/registry start 2>&1) && [[ -s /run/phaselab-registry-$port.pid ]]; then
	ok "registry: started on 127.0.0.1:$port"
else
	bad "registry: start on 127.0.0.1:$port: $out"
fi
repo=127.0.0.1:$port/phaselab-itest base=http://127.0.0.1:$port
printf 'FROM scratch\nCOPY id /id\n' >"$work/tiny.Dockerfile"
echo "$ID" >"$work/id"
DOCKER_BUILDKIT=0 "$ENGINE_CLI" build -q --label "$TLABEL=$ID" -t "$repo:abc1234" -f "$work/tiny.Dockerfile" "$work" \
	>/dev/null 2>&1
on_exit "$(printf '%q' "$ENGINE_CLI") rmi -f $repo:abc1234 >/dev/null 2>&1"
pushed=$("$ENGINE_CLI" push "$repo:abc1234" 2>&1)
digest=$(sed -n 's/^abc1234: digest: \(sha256:[0-9a-f]\{64\}\) size: [0-9]*$/\1/p' <<<"$pushed")
if [[ -n $digest ]]; then ok "registry: docker push answered digest ${digest:0:19}..."; else bad "registry: push: $pushed"; fi
accept=(-H 'Accept: application/vnd.docker.distribution.manifest.v2+json'
	-H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json'
	-H 'Accept: application/vnd.oci.image.manifest.v1+json' -H 'Accept: application/vnd.oci.image.index.v1+json')
head=$(curl --noproxy '*' -s -I "${accept[@]}" "$base/v2/phaselab-itest/manifests/abc1234" 2>&1)
served=$(awk -F': ' 'tolower($1) == "docker-content-digest" { print $2 }' <<<"$head" | tr -d '\r')
[[ -n $digest && $served == "$digest" ]] && ok "registry: HEAD of the tag serves the pushed digest" ||
	bad "registry: HEAD served '$served', pushed '$digest'"
config=$(curl --noproxy '*' -s "${accept[@]}" "$base/v2/phaselab-itest/manifests/abc1234" | jq -r .config.digest 2>/dev/null)
[[ $config == "$("$ENGINE_CLI" image inspect --format '{{.Id}}' "$repo:abc1234")" ]] &&
	ok "registry: the manifest names the local image's config" || bad "registry: manifest config $config"
[[ $("$ENGINE_CLI" image inspect --format '{{json .RepoDigests}}' "$repo:abc1234") == *"$repo@$digest"* ]] &&
	ok "registry: RepoDigests holds $repo@sha256:..." || bad "registry: RepoDigests"
code=$(curl --noproxy '*' -s -o /dev/null -w '%{http_code}' -X DELETE "$base/v2/phaselab-itest/manifests/$digest")
after=$(curl --noproxy '*' -s -o /dev/null -w '%{http_code}' -I "${accept[@]}" "$base/v2/phaselab-itest/manifests/abc1234")
[[ $code == 202 && $after == 404 ]] && ok "registry: DELETE of the manifest (202), then the tag is gone (404)" ||
	bad "registry: DELETE $code, then HEAD $after"
if out=$(labs/registry/registry stop 2>&1) && ! labs/registry/registry answers && [[ ! -e /run/phaselab-registry-$port.pid ]]; then
	ok "registry: stop stops it and removes its pid file"
else
	bad "registry: stop: $out"
fi
out=$(PHASELAB_REGISTRY=192.0.2.1:$port labs/registry/registry start 2>&1)
rc=$?
[[ $rc == 0 && $out == *"nothing started"* && ! -e /run/phaselab-registry-$port.pid ]] &&
	ok "registry: a non-loopback PHASELAB_REGISTRY starts nothing" || bad "registry: non-loopback: exit $rc, $out"

finish

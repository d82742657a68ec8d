# tests/integration/lib.sh: what the integration scripts share.  Sourced, never
# run: `. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"` as a script's first line
# after its comment.  It puts the shell at the repository's root and gives:
#
#   counting    ok TEXT, bad TEXT (`ok   TEXT` / `FAIL TEXT` lines), skipped (a
#               count a script may raise), note TEXT (to stderr), finish: the
#               closing `N passed, N failed` line (after `N skipped` when some
#               were), exit 1 on any failure or when nothing was counted at
#               all, else 0
#   cleanup     make_tmp VAR [PREFIX]: a temporary folder, removed at exit (also
#               on SIGINT/SIGTERM; read-only leftovers of cancelled builds
#               included); on_exit COMMAND: more to do at exit (last in, first
#               run); keep_tmp DIR: keep that folder after all
#   waiting     wait_until SECONDS COMMAND...: COMMAND every $WAIT_STEP (0.1 s)
#               until it succeeds (0) or SECONDS have passed (1); alive PID
#   time        now_ms, fmt_secs MS (`6.3`)
#   the program BIN (absolute), need_bin, need_tools "TOOL..." PACKAGES
#   the engine  ENGINE (the engine under test: $PHASELAB_ENGINE, docker or
#               podman; default docker), ENGINE_CLI (its CLI, as engine_cli
#               prints it, until a script picks a builder's CLI), LABEL
#               (org.phaselab.run), engine_builders (the builders the suites
#               run by default: docker's two, or podman's buildah), builder_cli
#               BUILDER, builder_buildkit BUILDER, builder_env BUILDER (the
#               NAME=value words that make the program use BUILDER, for env),
#               engine_answers, engine_rootless, labelled_containers [RUN_ID],
#               labelled_images [RUN_ID], labelled [RUN_ID] (both, full ids),
#               all_containers, run_folders (in $PHASELAB_STATE_DIR/runs), run_ids,
#               has_container RUN_ID, lasting_labelled BEFORE [SECONDS]
#   cases       IDS (phase 3's checklist), selected NAME (against $PHASELAB_ONLY),
#               expect_file DIR, parse_expect FILE, compare OUT WANT_RC RC
#
# expect files (tests/fixtures/submissions/*/expect, tests/fixtures/hostile/*/expect):
#   # a comment                  (a line starting with #; blank lines too)
#   builds   pass                one line per checklist id, in IDS's order, each
#   ...                          pass, fail, skip or error
#   hint ID SUBSTRING            the check's hint must contain SUBSTRING (the
#   message ID SUBSTRING         rest of the line); ID must be a checklist id
#   exit N                       the exit status, when not 0 (all pass) or 1:
#                                at most once, one of 0 1 2 3 130 (the contract's)
# parse_expect sets EXP_STATUS (the statuses, in IDS's order), EXP_TEXTS (a JSON
# array of [field, id, substring]), EXP_EXIT (empty when no exit line), EXP_RC
# (the exit status to expect); on a bad file it returns 1 with EXP_ERROR saying
# what is wrong and where.  FILE `-` stands for the reference solution: all pass.
#
# This parser replaces two copies that had drifted (run's and hostile's) and
# grade's awk reading of the statuses.  It accepts the union of what they
# accepted (hostile's `error` status and `exit N` line, which run's copy
# refused), and where they were loose it is the stricter one: `exit` at most
# once and only a status of the contract (hostile's took any digits, the last
# line winning), a hint/message line only for a checklist id (both copies let
# a misspelt id pass unchecked), and grade reads the statuses through it too
# (its awk took any second word of any line that began with a checklist id).

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 2
LIB_PROG=${0##*/}

BIN=${PHASELAB_BIN:-bin/phaselab}
case $BIN in /*) ;; *) BIN=$ROOT/$BIN ;; esac
ENGINE=${PHASELAB_ENGINE:-docker}
case $ENGINE in
	docker|podman) ;;
	*) printf '%s: PHASELAB_ENGINE is %s; the suites know docker and podman\n' "$LIB_PROG" "$ENGINE" >&2; exit 2 ;;
esac
LABEL=org.phaselab.run
IDS=(builds size responds nonroot healthy noshell cache dockerignore)

# --- counting -------------------------------------------------------------------
passed=0 failed=0 skipped=0
ok()   { printf 'ok   %s\n' "$*"; passed=$((passed + 1)); return 0; }
bad()  { printf 'FAIL %s\n' "$*"; failed=$((failed + 1)); return 0; }
note() { printf '%s\n' "$*" >&2; }
finish() {
	if ((passed + failed == 0)); then
		note "$LIB_PROG: no case ran"
		failed=$((failed + 1))
	fi
	((skipped)) && printf '%d skipped\n' "$skipped"
	printf '%d passed, %d failed\n' "$passed" "$failed"
	((failed == 0)) && exit 0
	exit 1
}

# --- cleanup --------------------------------------------------------------------
LIB_AT_EXIT=()
on_exit() { LIB_AT_EXIT+=("$*"); }
lib_at_exit() {
	local i
	for ((i = ${#LIB_AT_EXIT[@]} - 1; i >= 0; i--)); do
		eval "${LIB_AT_EXIT[i]}" || true
	done
	LIB_AT_EXIT=()
}
trap lib_at_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# rm_tree DIR: remove DIR, also what a cancelled build step left read-only in it
rm_tree() { chmod -R u+rwX -- "$1" 2>/dev/null; rm -rf -- "$1"; }
# make_tmp VAR [PREFIX]: VAR= a new folder ${TMPDIR:-/tmp}/phaselab-PREFIX.XXXXXX
make_tmp() {
	local dir
	dir=$(mktemp -d "${TMPDIR:-/tmp}/phaselab-${2:-itest}.XXXXXX") || { note "$LIB_PROG: mktemp failed"; exit 2; }
	on_exit "[[ \${LIB_KEPT:-} == *\"|$dir|\"* ]] || rm_tree $(printf '%q' "$dir")"
	printf -v "$1" '%s' "$dir"
}
keep_tmp() { LIB_KEPT="${LIB_KEPT:-|}$1|"; }

# --- waiting and time -------------------------------------------------------------
now_ms() { echo $(($(date +%s%N) / 1000000)); }
fmt_secs() { printf '%d.%d' $(($1 / 1000)) $((($1 % 1000) / 100)); }
alive() { kill -0 "$1" 2>/dev/null; }
wait_until() {
	local limit=$1 end
	shift
	end=$(($(now_ms) + limit * 1000))
	while :; do
		"$@" && return 0
		(($(now_ms) >= end)) && return 1
		sleep "${WAIT_STEP:-0.1}"
	done
}

# --- the program and tools ----------------------------------------------------------
need_bin() {
	if [[ ! -x $BIN ]]; then
		note "$LIB_PROG: $BIN is missing or not executable (run make, or set PHASELAB_BIN)"
		exit 2
	fi
}
# need_tools "TOOL..." PACKAGES: exit 2 naming the packages when a tool is missing
need_tools() {
	local tool
	for tool in $1; do
		command -v "$tool" >/dev/null 2>&1 || { note "$LIB_PROG: $tool is needed (apt-get install $2)"; exit 2; }
	done
}

# --- the engine ---------------------------------------------------------------------
# Every suite talks to the engine under test ($PHASELAB_ENGINE) through what
# follows, never through a `docker` of its own: its listings (labelled, ...)
# and the program's runs (builder_env) go to the same engine.  Podman's CLI
# takes docker's words for all the listings here (ps, images, inspect, rm,
# rmi, --filter label=...).  Rootless podman is the same CLI run as its
# unprivileged user: a suite is run as that user (tests/integration/rootless
# does it), so ENGINE_CLI needs no wrapper.
engine_cli() {
	case $ENGINE in
		podman) printf '%s\n' "${PHASELAB_PODMAN:-podman}" ;;
		*) printf '%s\n' "${PHASELAB_DOCKER:-docker}" ;;
	esac
}
ENGINE_CLI=$(engine_cli)
# engine_builders: the builders a suite runs by default on the engine under test
engine_builders() { [[ $ENGINE == podman ]] && echo buildah || echo legacy buildkit; }
# builder_cli BUILDER: the CLI that drives BUILDER (legacy: the 28.x CLI with
# DOCKER_BUILDKIT=0; buildkit: the 20.10 CLI with DOCKER_BUILDKIT=1; buildah:
# the podman CLI)
builder_cli() {
	case $1 in
		legacy) printf '%s\n' "${PHASELAB_LEGACY_DOCKER:-/usr/local/bin/docker}" ;;
		buildkit) printf '%s\n' "${PHASELAB_BUILDKIT_DOCKER:-/usr/bin/docker}" ;;
		buildah) printf '%s\n' "${PHASELAB_PODMAN:-podman}" ;;
		*) return 1 ;;
	esac
}
builder_buildkit() { [[ $1 == buildkit ]] && echo 1 || echo 0; }
# builder_env BUILDER: `env $(builder_env B) "$BIN" ...` runs the program on B
builder_env() {
	case $1 in
		buildah) printf 'PHASELAB_ENGINE=podman PHASELAB_PODMAN=%s\n' "$(builder_cli buildah)" ;;
		*) printf 'PHASELAB_ENGINE=docker PHASELAB_DOCKER=%s DOCKER_BUILDKIT=%s\n' \
			"$(builder_cli "$1")" "$(builder_buildkit "$1")" ;;
	esac
}
# engine_cli_var BUILDER: the variable that names BUILDER's CLI to the program
engine_cli_var() { [[ $1 == buildah ]] && echo PHASELAB_PODMAN || echo PHASELAB_DOCKER; }
# builder_engine BUILDER: the engine kind it belongs to
builder_engine() { [[ $1 == buildah ]] && echo podman || echo docker; }
# engine_answers [CLI]: the engine under test (through CLI) answers
engine_answers() {
	if [[ $ENGINE == podman ]]; then
		"${1:-$ENGINE_CLI}" info --format '{{.Store.GraphDriverName}}' >/dev/null 2>&1
	else
		"${1:-$ENGINE_CLI}" version --format '{{.Server.Version}}' >/dev/null 2>&1
	fi
}
# engine_rootless: the engine under test is a rootless podman
engine_rootless() {
	[[ $ENGINE == podman && $("$ENGINE_CLI" info --format '{{.Host.Security.Rootless}}' 2>/dev/null) == true ]]
}
# engine_remote: the engine under test is a docker that phaselab treats as
# remote (DOCKER_HOST other than a unix socket, or PHASELAB_REMOTE=1)
engine_remote() {
	[[ $ENGINE == docker && ${PHASELAB_REMOTE:-} != 0 ]] &&
		{ [[ ${PHASELAB_REMOTE:-} == 1 ]] || [[ -n ${DOCKER_HOST:-} && $DOCKER_HOST != unix://* ]]; }
}
# engine_tag: the engine under test (docker, docker-remote, podman, podman-rootless)
engine_tag() {
	if [[ $ENGINE != podman ]]; then engine_remote && echo docker-remote || echo docker
	elif engine_rootless; then echo podman-rootless
	else echo podman
	fi
}
# labelled_containers [RUN_ID], labelled_images [RUN_ID]: full ids of what
# carries the label (of that run only, when given), one a line, sorted
# engine_list WORDS...: `$ENGINE_CLI WORDS...`, asked again (up to 5 times)
# when it fails: podman's listing fails as a whole ("image not known") when
# another run removes an image between podman's reading the list and the image
engine_list() {
	local try out
	for try in 1 2 3 4 5; do
		out=$("$ENGINE_CLI" "$@" 2>/dev/null) && { [[ -z $out ]] || printf '%s\n' "$out"; return 0; }
		sleep 0.5
	done
	note "$LIB_PROG: '$ENGINE_CLI $*' failed 5 times"
	return 1
}
# On podman, buildah's working containers too: a `podman build` killed
# mid-build leaves them where only `ps --external` lists them, with no labels
# a filter sees; the builder's state beside each (buildah.json) keeps the
# build arguments, PHASELAB_RUN (the run's id, which phaselab gives every
# build) among them.
working_containers() {
	[[ $ENGINE == podman ]] || return 0
	local root id
	root=$("$ENGINE_CLI" info --format '{{.Store.GraphRoot}}/{{.Store.GraphDriverName}}-containers' 2>/dev/null) || return 0
	engine_list ps -a --external --format json | jq -r '.[] | select(.State == "storage") | .Id' 2>/dev/null |
		while IFS= read -r id; do
			jq -e --arg v "${1:-}" '.Args.PHASELAB_RUN as $r | $r != null and ($v == "" or $r == $v)' \
				"$root/$id/userdata/buildah.json" >/dev/null 2>&1 && echo "$id"
		done
}
labelled_containers() {
	{ engine_list ps -aq --no-trunc --filter "label=$LABEL${1:+=$1}"; working_containers "${1:-}"; } | sed '/^$/d' | sort -u
}
labelled_images() { engine_list images -q --no-trunc --filter "label=$LABEL${1:+=$1}" | sort -u; }
labelled() { { labelled_containers "$@"; labelled_images "$@"; } | sort -u; }
all_containers() { engine_list ps -aq --no-trunc | sort -u; }
run_folders() { find "$PHASELAB_STATE_DIR/runs" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
# run_ids: the names of the run folders, which are the runs' ids (their label's value)
run_ids() { find "$PHASELAB_STATE_DIR/runs" -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort; }
# has_container RUN_ID: the run's labelled container exists
has_container() { [[ -n $1 && -n $(engine_list ps -aq --filter "label=$LABEL=$1") ]]; }
# lasting_labelled BEFORE [SECONDS]: the labelled containers and images that
# are not in BEFORE (an earlier `labelled` listing) and are still there after
# SECONDS (default 60) at most.  The engine may be shared: another user's run
# removes its objects when it ends, while what a run left stays.
lasting_labelled() {
	local before=$1
	wait_until "${2:-60}" eval '[[ -z $(labelled | comm -13 "$before" -) ]]' || true
	labelled | comm -13 "$before" -
}

# build_cache_image ID: true for an image of podman's build cache: buildah
# commits every step's image with the build's labels (docker's builders label
# only the image built), so a step image carries the run's label, and stays,
# as docker's unlabelled step images do, for the next build to hit.  The
# image a build made is the one whose newest layer is the build's own LABEL
# step (buildah's last step, `LABEL "org.phaselab.run"=...`): never cache.
build_cache_image() {
	local top
	[[ $ENGINE == podman ]] || return 1
	top=$("$ENGINE_CLI" image inspect --format '{{range .History}}{{.CreatedBy}}{{"\n"}}{{end}}' "$1" 2>/dev/null | tail -n 1) || return 1
	[[ -n $top && $top != *"$LABEL"* ]]
}
# without_build_cache: the ids on stdin (full or short) that are not
# build_cache_image; CACHE_KEPT (a file, when set) gets a line for each one kept
without_build_cache() {
	local id
	while IFS= read -r id; do
		[[ -n $id ]] || continue
		if build_cache_image "$id"; then
			[[ -z ${CACHE_KEPT:-} ]] || printf '%s\n' "$id" >>"$CACHE_KEPT"
		else
			printf '%s\n' "$id"
		fi
	done
}

# expect_file DIR: the fixture's expect file for the engine under test: its
# expect.TAG (engine_tag: podman-rootless, docker-remote) or expect.ENGINE
# when it has one (where the engines' verdicts or words really differ; the
# file says why in a comment), else its expect
expect_file() {
	local tag
	if compgen -G "$1/expect.$ENGINE-*" >/dev/null; then
		[[ -n ${LIB_ENGINE_TAG:-} ]] || LIB_ENGINE_TAG=$(engine_tag)
		tag=$LIB_ENGINE_TAG
	fi
	if [[ -n ${tag:-} && -f $1/expect.$tag ]]; then printf '%s\n' "$1/expect.$tag"
	elif [[ -f $1/expect.$ENGINE ]]; then printf '%s\n' "$1/expect.$ENGINE"
	else printf '%s\n' "$1/expect"
	fi
}

# --- cases --------------------------------------------------------------------------
selected() {
	# shellcheck disable=SC2053
	[[ $1 == ${PHASELAB_ONLY:-*} ]]
}

is_id() { local i; for i in "${IDS[@]}"; do [[ $1 == "$i" ]] && return 0; done; return 1; }

parse_expect() {
	local file=$1 line id rest n=0 s
	EXP_STATUS=() EXP_TEXTS='[]' EXP_ERROR= EXP_EXIT= EXP_RC=0
	if [[ $file == - ]]; then
		for id in "${IDS[@]}"; do EXP_STATUS+=(pass); done
		return 0
	fi
	[[ -f $file ]] || { EXP_ERROR="$file: no such file"; return 1; }
	while IFS= read -r line || [[ -n $line ]]; do
		line=${line%$'\r'}
		[[ -z ${line//[[:space:]]/} || $line == \#* ]] && continue
		read -r id rest <<<"$line"
		if [[ $id == exit ]]; then
			[[ $rest =~ ^(0|1|2|3|130)$ ]] ||
				{ EXP_ERROR="$file: bad exit line (want: exit N, N one of 0 1 2 3 130): $line"; return 1; }
			[[ -z $EXP_EXIT ]] || { EXP_ERROR="$file: a second exit line: $line"; return 1; }
			EXP_EXIT=$rest
			continue
		fi
		if [[ $id == hint || $id == message ]]; then
			local hid=${rest%% *} sub=${rest#* }
			if [[ -z $hid || $sub == "$rest" || -z $sub ]]; then
				EXP_ERROR="$file: bad $id line (want: $id ID SUBSTRING): $line"; return 1
			fi
			is_id "$hid" || { EXP_ERROR="$file: $id line for '$hid', which is no checklist id: $line"; return 1; }
			EXP_TEXTS=$(jq -c --arg f "$id" --arg id "$hid" --arg s "$sub" '. + [[$f, $id, $s]]' <<<"$EXP_TEXTS")
			continue
		fi
		if ((n >= ${#IDS[@]})) || [[ $id != "${IDS[$n]}" ]]; then
			EXP_ERROR="$file: expected a line for '${IDS[$n]:-nothing more}', found: $line"; return 1
		fi
		case $rest in
			pass|fail|skip|error) ;;
			*) EXP_ERROR="$file: status of $id must be pass, fail, skip or error, not '$rest'"; return 1 ;;
		esac
		EXP_STATUS+=("$rest")
		n=$((n + 1))
	done <"$file"
	if ((n != ${#IDS[@]})); then
		EXP_ERROR="$file: has $n of the ${#IDS[@]} checklist lines"; return 1
	fi
	for s in "${EXP_STATUS[@]}"; do [[ $s == pass ]] || EXP_RC=1; done
	[[ -n $EXP_EXIT ]] && EXP_RC=$EXP_EXIT
	return 0
}

# compare OUT EXPECTED_RC RC: what differs between the JSON report OUT (and
# the exit status RC) and what parse_expect read, one line per difference
compare() {
	local out=$1 want_rc=$2 rc=$3 exp i sep=''
	if [[ $rc != "$want_rc" ]]; then
		printf 'exit status %s, expected %s\n' "$rc" "$want_rc"
	fi
	if ! jq -e . "$out" >/dev/null 2>&1; then
		printf 'the output is not JSON (%s)\n' "$(head -c 120 "$out" | tr '\n' ' ')"
		return 0
	fi
	# statuses and ids are from fixed vocabularies (parse_expect checked them)
	exp='['
	for i in "${!IDS[@]}"; do
		exp+="$sep{\"id\":\"${IDS[$i]}\",\"status\":\"${EXP_STATUS[$i]}\"}"
		sep=,
	done
	exp+=']'
	jq -r --argjson exp "$exp" --argjson texts "$EXP_TEXTS" --argjson rc "$rc" '
    def check($id): [.checks[]? | select(.id == $id)][0];
    def short: tostring | gsub("\\s+"; " ") | .[0:160];
    . as $r |
    (if .schema != "phaselab.report/v1" then "schema is \(.schema | tojson), expected \"phaselab.report/v1\"" else empty end),
    (if (.passed | type) != "boolean" then "passed is not a boolean"
     elif ($rc == 0 or $rc == 1) and .passed != ($rc == 0) then "passed is \(.passed) but the exit status is \($rc)"
     else empty end),
    (if [.checks[]?.id] != [$exp[].id]
     then "check ids \([.checks[]?.id] | join(",")), expected \([$exp[].id] | join(","))" else empty end),
    ($exp[] | . as $e | ($r | check($e.id)) as $c
      | if $c == null then "\($e.id): missing"
        elif $c.status != $e.status
        then "\($e.id): \($c.status), expected \($e.status) (\(($c.message // "") | short))"
        else empty end),
    ($texts[] | . as [$f, $id, $sub] | ($r | check($id)) as $c
      | if $c == null then empty
        elif (($c[$f] // "") | tostring | contains($sub)) | not
        then "\($id): \($f) lacks \($sub | tojson) (\($f): \(($c[$f] // "none") | short))"
        else empty end)
  ' "$out"
}

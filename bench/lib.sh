# Sourced by the bench/*.sh scripts: what they share. Each script defines log and die first.

# ensure_packages PKG...: installs the Debian packages that are missing (peers and tools), unless
# BENCH_NO_INSTALL is set, in which case a missing one is an error.
ensure_packages() {
	local missing=() p status sudo=
	for p in "$@"; do
		status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		[ "$status" = "install ok installed" ] || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ -z "${BENCH_NO_INSTALL:-}" ] || die "missing packages: ${missing[*]} (BENCH_NO_INSTALL is set)"
	log "installing ${missing[*]}"
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >&2
}

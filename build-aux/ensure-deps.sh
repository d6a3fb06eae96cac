#!/bin/sh
# ensure-deps.sh PKG... - make sure the Debian packages the build needs are
# installed.  As root, missing packages are installed with apt-get;
# otherwise one line names them and the script exits 1.
missing=
for p in "$@"; do
	s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
	case "$s" in
	*"ok installed") ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "installing missing packages:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	# A stale or absent package list makes install fail: refresh it first.
	apt-get update -q >/dev/null || exit 1
	apt-get install -y -q --no-install-recommends $missing >/dev/null || {
		echo "error: apt-get could not install:$missing" >&2
		exit 1
	}
	exit 0
fi
echo "error: missing Debian packages:$missing (install them with: sudo apt-get install$missing)" >&2
exit 1

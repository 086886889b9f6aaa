# Sourced by the deploy scripts: make JAVA_HOME point at a JDK 25 or newer, or explain.
isthmus_java_feature() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p'; }

isthmus_find_jdk() {
    local candidate
    for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*-25* /usr/lib/jvm/*; do
        [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] || continue
        local feature
        feature=$(isthmus_java_feature "$candidate")
        if [ -n "$feature" ] && [ "${feature%%.*}" -ge 25 ] 2>/dev/null; then
            export JAVA_HOME="$candidate"
            export PATH="$JAVA_HOME/bin:$PATH"
            return 0
        fi
    done
    if command -v java >/dev/null 2>&1; then
        candidate=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
        feature=$(isthmus_java_feature "$candidate")
        if [ -n "$feature" ] && [ "${feature%%.*}" -ge 25 ] 2>/dev/null; then
            export JAVA_HOME="$candidate"
            return 0
        fi
    fi
    echo "Isthmus needs JDK 25 or newer: none found (looked at JAVA_HOME, /usr/lib/jvm and the java on PATH)." >&2
    echo "Install one (e.g. Temurin 25) and set JAVA_HOME." >&2
    return 1
}

# Installs the Debian/Ubuntu packages named, those missing, with sudo unless root. Their services
# are not started: the tests and the lab run what they need themselves, in their own namespaces,
# and a system charon on ports 500 and 4500, or Debian's Prometheus listening on every address at
# port 9090, would only get in the way (a policy-rc.d that refuses, as Debian's container images
# use, is put in place for the install when there is none). Debian's prometheus unit is also
# disabled, so that it does not start at the next boot either: the project only needs promtool.
isthmus_apt_install() {
    local missing=() p
    for p in "$@"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    echo "installing ${missing[*]}"
    $sudo_cmd apt-get update -qq
    local rc=0
    # A subshell, so that its traps are its own: the guard goes with it however it ends (a failed
    # install, Ctrl-C), and the caller's traps stay as they were. Only a guard this run made goes:
    # one already there (a file, or a symlink even to nothing) is left alone, and set -C makes the
    # creation atomic, so of two runs at once only one owns it.
    (
        if [ ! -e /usr/sbin/policy-rc.d ] && [ ! -L /usr/sbin/policy-rc.d ] \
            && $sudo_cmd sh -c 'set -C; printf "#!/bin/sh\n# isthmus: no service starts while its packages install\nexit 101\n" > /usr/sbin/policy-rc.d' 2>/dev/null; then
            trap "$sudo_cmd rm -f /usr/sbin/policy-rc.d" EXIT
            trap 'exit 130' INT TERM HUP
            $sudo_cmd chmod 755 /usr/sbin/policy-rc.d
        fi
        DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
    ) || rc=$?
    for p in "${missing[@]}"; do
        if [ "$p" = prometheus ] && command -v systemctl >/dev/null 2>&1; then
            $sudo_cmd systemctl disable --now prometheus >/dev/null 2>&1 || true
        fi
        # The bench's test runs an sshd of its own; the package's would listen on port 22 from the next boot.
        if [ "$p" = openssh-server ] && command -v systemctl >/dev/null 2>&1; then
            $sudo_cmd systemctl disable --now ssh >/dev/null 2>&1 || true
        fi
    done
    return $rc
}

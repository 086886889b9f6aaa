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

# Installs the Debian/Ubuntu packages named, those missing, with sudo unless root.
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
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

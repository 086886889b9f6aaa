#!/usr/bin/env bash
# Prints the runtime's modules (the + lines of MODULES_FILE) as a list for jlink --add-modules, once
# jdeps has shown that every JDK module the jars refer to is either in the list or left out for a
# reason written there: a new dependency that needs a module nobody chose stops the build here, not
# a gateway at 3 a.m. with NoClassDefFoundError.
# Usage: jlink-modules.sh [--jdk DIR] MODULES_FILE JAR...
set -euo pipefail

die() { echo "jlink-modules.sh: $*" >&2; exit 1; }

jdk=${JAVA_HOME:-}
if [ "${1:-}" = --jdk ]; then
    jdk=${2:?--jdk needs a directory}
    shift 2
fi
[ $# -ge 2 ] || die "usage: jlink-modules.sh [--jdk DIR] MODULES_FILE JAR..."
[ -x "$jdk/bin/jdeps" ] || die "no jdeps in '$jdk' (give a JDK with --jdk or JAVA_HOME)"
modules_file=$1
shift
[ -f "$modules_file" ] || die "$modules_file: no such file"
for jar in "$@"; do
    [ -f "$jar" ] || die "$jar: no such jar"
done

# The chosen modules, and for each module left out the referrers it is left out for.
declare -A included=() excluded=()
lineno=0
while IFS= read -r line || [ -n "$line" ]; do
    lineno=$((lineno + 1))
    case "$line" in
        '' | '#'*) continue ;;
    esac
    read -r sign module rest <<<"$line"
    case "$sign" in
        +)
            [ -n "$rest" ] || die "$modules_file:$lineno: '+ $module' says not why it is needed"
            included[$module]=1
            ;;
        -)
            [[ "$rest" == *' -- '?* ]] || die "$modules_file:$lineno: expected '- MODULE SOURCE... -- why'"
            sources=${rest%% -- *}
            excluded[$module]="${excluded[$module]:-} $sources"
            ;;
        *) die "$modules_file:$lineno: a line starts with + or -, or # for a comment" ;;
    esac
done <"$modules_file"
[ -n "${included[java.base]:-}" ] || die "$modules_file: java.base is not in the list"
for module in "${!included[@]}"; do
    [ -z "${excluded[$module]:-}" ] || die "$modules_file: $module is both in and left out"
done

# jdeps reads multi-release jars as the runtime will: at the JDK's own feature release.
feature=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$jdk/release")
[ -n "$feature" ] || die "cannot read JAVA_VERSION from $jdk/release"
classpath=$(IFS=:; echo "$*")
summary=$("$jdk/bin/jdeps" --multi-release "$feature" --ignore-missing-deps -summary --class-path "$classpath" "$@" 2>&1) \
    || die "jdeps failed: $summary"

missing=()
while read -r source arrow module; do
    [ "$arrow" = "->" ] || continue
    case "$module" in java.* | jdk.*) ;; *) continue ;; esac
    [ -z "${included[$module]:-}" ] || continue
    covered=
    for prefix in ${excluded[$module]:-}; do
        [[ "$source" == "$prefix"* ]] && covered=1
    done
    [ -n "$covered" ] || missing+=("$source needs $module")
done <<<"$summary"
if [ ${#missing[@]} -gt 0 ]; then
    for m in "${missing[@]}"; do
        echo "jlink-modules.sh: $m, which $modules_file neither puts in the runtime (+) nor leaves out for it (-) with a reason" >&2
    done
    exit 1
fi
printf '%s\n' "${!included[@]}" | sort | paste -sd, -

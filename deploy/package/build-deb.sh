#!/usr/bin/env bash
# Builds isthmus_<version>_amd64.deb: the gateway's jars (control and what it needs; not the lab), a
# Java runtime made by jlink with only the modules they need (jlink-modules), the isthmus command,
# the unit, the sysctl drop-in, the example configuration, man pages made from the command line.
# deploy/package/pom.xml runs it in the package phase of mvn verify; by hand:
#   build-deb.sh --version 0.1.0-SNAPSHOT --lib DIR --codegen picocli-codegen.jar --out DIR [--jdk DIR]
# --lib holds isthmus-control-*.jar and its runtime dependencies, --codegen is picocli's man page generator.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/../.." && pwd)

die() { echo "build-deb.sh: $*" >&2; exit 1; }

version= lib= codegen= out= jdk=${JAVA_HOME:-}
while [ $# -gt 0 ]; do
    case "$1" in
        --version | --lib | --codegen | --out | --jdk)
            [ $# -ge 2 ] || die "$1 needs a value"
            declare "${1#--}=$2"
            shift 2
            ;;
        *) die "unknown argument '$1' (--version, --lib, --codegen, --out, --jdk)" ;;
    esac
done
[ -n "$version" ] && [ -n "$lib" ] && [ -n "$codegen" ] && [ -n "$out" ] || die "--version, --lib, --codegen and --out are required"

# Maven's 0.1.0-SNAPSHOT as Debian's 0.1.0~SNAPSHOT: a "-" would start a Debian revision, and "~"
# sorts before the release (0.1.0~SNAPSHOT < 0.1.0), as a snapshot does.
deb_version=${version//-/\~}
[[ "$deb_version" =~ ^[0-9][A-Za-z0-9.+~]*$ ]] \
    || die "version '$version' does not make a Debian version (a digit first, then letters, digits and . + ~ -)"

[ -x "$jdk/bin/jlink" ] && [ -x "$jdk/bin/java" ] || die "no JDK with jlink at '$jdk' (give --jdk or JAVA_HOME)"
for tool in dpkg-deb dpkg-shlibdeps dpkg-parsechangelog asciidoctor gzip md5sum strip; do
    command -v "$tool" >/dev/null \
        || die "$tool not found: deploy/lib/packages.sh names the packages the build needs (ISTHMUS_PACKAGE_BUILD_PACKAGES)"
done
[ -d "$lib" ] || die "$lib: no such directory"
lib=$(cd "$lib" && pwd) # absolute: the steps below run in other directories
control_jars=("$lib"/isthmus-control-*.jar)
[ -f "${control_jars[0]}" ] && [ ${#control_jars[@]} -eq 1 ] || die "$lib must hold exactly one isthmus-control-*.jar"
[ -f "$codegen" ] || die "$codegen: no such file (picocli-codegen's jar)"
codegen=$(cd "$(dirname "$codegen")" && pwd)/$(basename "$codegen")
changelog_version=$(dpkg-parsechangelog -l "$here/debian/changelog" -S Version)
[ "$changelog_version" = "$deb_version" ] \
    || die "deploy/package/debian/changelog starts with $changelog_version, the pom says $version ($deb_version): add an entry for it"

mkdir -p "$out"
out=$(cd "$out" && pwd)
stage=$out/deb
root=$stage/root
rm -rf "$stage" "$out"/isthmus_*_amd64.deb
mkdir -p "$root" "$stage/tmp"
umask 022

# The jar's own record of the version it was built as: a stale jar in --lib would carry another.
(cd "$stage/tmp" && "$jdk/bin/jar" xf "${control_jars[0]}" io/isthmus/control/version.properties io/isthmus/control/jvm.options)
jar_version=$(sed -n 's/^version=//p' "$stage/tmp/io/isthmus/control/version.properties")
[ "$jar_version" = "$version" ] || die "${control_jars[0]} was built as version '$jar_version', not $version"

echo "build-deb.sh: isthmus $deb_version: choosing the runtime's modules (jdeps)"
modules=$("$here/jlink-modules.sh" --jdk "$jdk" "$here/jlink-modules" "$lib"/*.jar)

# The files as they are in the repository (git keeps no modes but x), then the ones made here.
cp -r "$here/root/." "$root/"
chmod -R u=rwX,go=rX "$root"
chmod 755 "$root/usr/bin/isthmus" "$root/usr/lib/isthmus/alive-check"
chmod 600 "$root/etc/isthmus/example.yaml" # an operator's copy may hold a key: cp -p keeps this mode
install -d -m 755 "$root/usr/lib/isthmus/lib" "$root/usr/share/doc/isthmus" "$root/usr/share/man/man1"
install -d -m 700 "$root/etc/isthmus/credentials"
install -m 644 "$lib"/*.jar "$root/usr/lib/isthmus/lib/"
install -m 644 "$stage/tmp/io/isthmus/control/jvm.options" "$root/usr/lib/isthmus/jvm.options"

echo "build-deb.sh: jlink --add-modules $modules"
"$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files --compress=zip-6 \
    --output "$root/usr/lib/isthmus/runtime"
# Policy 10.1: binaries stripped of their symbol tables (5 MB of libjvm.so; the dynamic symbols
# stay). A crash report (hs_err) then names native frames by offset, not by function.
elves=()
while IFS= read -r -d '' f; do
    [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] && elves+=("$f")
done < <(find "$root/usr/lib/isthmus/runtime" -type f -print0)
[ ${#elves[@]} -gt 0 ] || die "no ELF file in the runtime: jlink made no runtime?"
strip --strip-unneeded --remove-section=.comment "${elves[@]}"
# jlink leaves the legal notices read-only (0444); a package's files are 0644, executables 0755.
chmod -R u+w,go-w "$root/usr/lib/isthmus/runtime"

# Man pages: picocli writes AsciiDoc for isthmus and each subcommand from the command line's own
# definitions, asciidoctor turns it into troff.
"$jdk/bin/java" -cp "$codegen:$lib/*" picocli.codegen.docgen.manpage.ManPageGenerator --outdir "$stage/adoc" io.isthmus.control.Isthmus
date=$(dpkg-parsechangelog -l "$here/debian/changelog" -S Date)
# A page with a hand-written frame in man/ (isthmus.adoc: files, environment, exit status) is made
# from that frame, which includes picocli's sections.
pages=()
for adoc in "$stage/adoc"/*.adoc; do
    frame=$here/man/$(basename "$adoc")
    [ -f "$frame" ] && pages+=("$frame") || pages+=("$adoc")
done
asciidoctor -b manpage -a generated="$stage/adoc" -a docdate="$(date -u -d "$date" +%F)" -a manmanual="Isthmus Manual" \
    -a mansource="isthmus $version" -D "$root/usr/share/man/man1" "${pages[@]}"
[ -f "$root/usr/share/man/man1/isthmus.1" ] || die "asciidoctor made no isthmus.1 from $stage/adoc"
gzip -9n "$root"/usr/share/man/man1/*.1

install -m 644 "$here/debian/copyright" "$root/usr/share/doc/isthmus/copyright"
gzip -9nc "$here/debian/changelog" >"$root/usr/share/doc/isthmus/changelog.gz"
gzip -9nc "$project/deploy/TWO-MACHINES.md" >"$root/usr/share/doc/isthmus/TWO-MACHINES.md.gz"
chmod 644 "$root"/usr/share/doc/isthmus/*.gz "$root"/usr/share/man/man1/*.gz

# Depends: the C libraries the runtime's binaries and Netty's epoll library (unpacked from its jar
# at run time) link to, as dpkg-shlibdeps reads them; and iproute2: the gateway runs ip(8) for its
# device's MTU and its routes, and ss(8) to name who holds a port it needs.
mkdir -p "$stage/shlibs/debian" "$stage/native"
printf 'Source: isthmus\n\nPackage: isthmus\nArchitecture: amd64\n' >"$stage/shlibs/debian/control"
for jar in "$lib"/netty-transport-native-*.jar; do
    (cd "$stage/native" && "$jdk/bin/jar" xf "$jar" META-INF/native)
done
while IFS= read -r -d '' f; do
    elves+=("$f")
done < <(find "$stage/native" -type f -name '*.so' -print0)
shlibs=$(cd "$stage/shlibs" && dpkg-shlibdeps -O "${elves[@]}" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || die "dpkg-shlibdeps found no library dependencies"
depends="iproute2, $shlibs"

install -d -m 755 "$root/DEBIAN"
installed_size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$deb_version/" -e "s/@INSTALLED_SIZE@/$installed_size/" -e "s/@DEPENDS@/$depends/" \
    "$here/debian/control" >"$root/DEBIAN/control"
echo /etc/isthmus/example.yaml >"$root/DEBIAN/conffiles"
install -m 755 "$here/debian/postinst" "$here/debian/prerm" "$here/debian/postrm" "$root/DEBIAN/"
# md5sums, as debsums and dpkg --verify read them; conffiles are left out, as dpkg keeps their sums itself.
(cd "$root" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -print0 | sort -z | xargs -0 md5sum | sed 's|  \./|  |') \
    >"$root/DEBIAN/md5sums"
chmod 644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"

deb=$out/isthmus_${deb_version}_amd64.deb
# gzip, not dpkg's default xz: the runtime's modules and the jars are compressed already, and xz
# took a minute of CPU here to make the package 9% smaller (34.9 MB against 38.4).
dpkg-deb --root-owner-group -Zgzip -z9 --build "$root" "$deb" >/dev/null
echo "build-deb.sh: $deb ($(stat -c %s "$deb") bytes; runtime $(du -sk "$root/usr/lib/isthmus/runtime" | cut -f1) KiB;" \
    "Depends: $depends; ${SECONDS} s)"

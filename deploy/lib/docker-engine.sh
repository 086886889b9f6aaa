# Sourced by deploy/test.sh: a Docker engine for the two-machine test (deploy/system-test).
#
# isthmus_docker_engine: if an engine already answers (DOCKER_HOST, or the default socket), it is used
# and left alone. Otherwise this starts Debian's dockerd for this run only, with iptables, ip6tables and
# the default bridge off (the host's networking is left as it is), its data root, exec root, socket
# and pid file under /run/isthmus-test-<pid> and /var/tmp/isthmus-test-<pid>, exports DOCKER_HOST, and
# isthmus_docker_engine_stop (set as an EXIT trap by the caller) stops it and removes what it made,
# whatever the outcome. The test's base image survives as a tarball in /var/cache/isthmus-test
# (deploy/lib/base-image.sh), so a new engine imports it instead of running debootstrap again.

ISTHMUS_DOCKERD_PID=""
ISTHMUS_DOCKERD_RUN=""
ISTHMUS_DOCKERD_DATA=""

isthmus_docker_answers() {
    timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

isthmus_docker_engine() {
    if isthmus_docker_answers; then
        echo "Docker engine: using the one that runs ($(docker version --format '{{.Server.Version}}' 2>/dev/null), ${DOCKER_HOST:-default socket})"
        return 0
    fi
    local run=/run/isthmus-test-$$ data=/var/tmp/isthmus-test-$$
    mkdir -p "$run" "$data"
    ISTHMUS_DOCKERD_RUN=$run
    ISTHMUS_DOCKERD_DATA=$data
    dockerd --iptables=false --ip6tables=false --bridge=none \
        --data-root "$data/docker" --exec-root "$run/exec" --pidfile "$run/dockerd.pid" \
        -H "unix://$run/docker.sock" >"$data/dockerd.log" 2>&1 &
    ISTHMUS_DOCKERD_PID=$!
    export DOCKER_HOST="unix://$run/docker.sock"
    local i
    for i in $(seq 1 60); do
        if isthmus_docker_answers; then
            echo "Docker engine: started dockerd $(docker version --format '{{.Server.Version}}') for this run (pid $ISTHMUS_DOCKERD_PID, $DOCKER_HOST, log $data/dockerd.log)"
            return 0
        fi
        kill -0 "$ISTHMUS_DOCKERD_PID" 2>/dev/null || break
        sleep 0.5
    done
    echo "Docker engine: dockerd did not answer; its log:" >&2
    tail -20 "$data/dockerd.log" >&2
    return 1
}

isthmus_docker_engine_stop() {
    [ -n "$ISTHMUS_DOCKERD_PID" ] || return 0
    local pid=$ISTHMUS_DOCKERD_PID i
    ISTHMUS_DOCKERD_PID=""
    # Containers first (systemd in them halts on SIGRTMIN+3), then the engine, which unmounts its layers.
    docker ps -q 2>/dev/null | xargs -r timeout 60 docker rm -f >/dev/null 2>&1 || true
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 60); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "Docker engine: dockerd $pid did not stop in 30 s; killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
        sleep 1
    fi
    # Remove its folders only when nothing of them is mounted any more.
    if findmnt -rn -o TARGET | grep -q -e "^$ISTHMUS_DOCKERD_DATA" -e "^$ISTHMUS_DOCKERD_RUN"; then
        echo "Docker engine: mounts left under $ISTHMUS_DOCKERD_DATA or $ISTHMUS_DOCKERD_RUN; not removing them" >&2
    else
        rm -rf --one-file-system "$ISTHMUS_DOCKERD_DATA" "$ISTHMUS_DOCKERD_RUN"
    fi
    echo "Docker engine: stopped"
}

#!/usr/bin/env bash
# apt_install PACKAGE WHY: install one Debian package quietly, or say why not and return 1.
# Sourced by install_browser.sh and install_sandbox.sh. Without root (and without passwordless
# sudo), without apt-get, or where the distribution has no such package, it only says how to
# install it (ending with WHY: what happens without it) and returns 1, never failing the caller.

apt_install() {
    local package="$1" why="$2" sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            echo "${package} is missing and this user cannot run apt-get; ${why}." \
                 "To install it: sudo apt-get install ${package}" >&2
            return 1
        fi
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "no apt-get here (not Debian/Ubuntu): install ${package} yourself; ${why}." >&2
        return 1
    fi
    echo "installing Debian's ${package} (one-time)..."
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    if ! apt-cache show "${package}" >/dev/null 2>&1; then
        echo "this distribution has no '${package}' package; install it yourself; ${why}." >&2
        return 1
    fi
    "${sudo[@]}" apt-get install -y -qq "${package}" >/dev/null
}

#!/usr/bin/env bash
# Check the wheel as a user gets it: built once (Node is needed to build it), then installed
# into a fresh venv with Node.js off PATH, where the server extension and the prebuilt
# JupyterLab extension must both be found, enabled and OK.
#
#   bash .ci/check-wheel.sh                 # build dist/jupyter_sleeptime-*.whl, then check it
#   bash .ci/check-wheel.sh path/to.whl     # check a wheel built elsewhere
#
# PYTHON (default: python3) builds the wheel and makes the fresh venv.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
PYTHON=${PYTHON:-python3}
export PIP_DISABLE_PIP_VERSION_CHECK=1

work=$(mktemp -d -t sleeptime-wheel-XXXXXX)
trap 'rm -rf "$work"' EXIT

say() { echo "check-wheel: $*"; }
fail() {
    echo "check-wheel: FAILED: $*" >&2
    exit 1
}

# -- the wheel ----------------------------------------------------------------------------------
if [ $# -ge 1 ]; then
    wheel=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
else
    rm -f dist/jupyter_sleeptime-*.whl
    say "building the wheel"
    "$PYTHON" -m pip wheel --quiet --no-deps -w dist .
    wheel=$(ls "$repo"/dist/jupyter_sleeptime-*.whl)
fi
[ -f "$wheel" ] || fail "no wheel at $wheel"
say "$(basename "$wheel") ($(du -h "$wheel" | cut -f1))"

# What a wheel without Node relies on: the built lab extension, the server-extension switch,
# the demo notebook.
"$PYTHON" - "$wheel" <<'EOF' || fail "the wheel misses files (see above)"
import sys, zipfile

names = zipfile.ZipFile(sys.argv[1]).namelist()
needed = {
    "lab extension package.json": "/share/jupyter/labextensions/jupyter-sleeptime/package.json",
    "lab extension entry point": "/share/jupyter/labextensions/jupyter-sleeptime/static/remoteEntry.",
    "server extension config": "/etc/jupyter/jupyter_server_config.d/",
    "quickstart notebook": "jupyter_sleeptime/examples/quickstart.ipynb",
}
missing = [what for what, part in needed.items() if not any(part in n for n in names)]
for what in missing:
    print(f"  missing: {what}", file=sys.stderr)
sys.exit(1 if missing else 0)
EOF

# -- a PATH without Node ------------------------------------------------------------------------
# Each PATH folder that holds node/npm/npx is replaced by a folder of links to everything
# else in it (node often sits in /usr/bin beside what pip and Python need).
no_node_path=""
IFS=: read -r -a path_dirs <<<"$PATH"
for dir in "${path_dirs[@]}"; do
    [ -d "$dir" ] || continue
    if [ -e "$dir/node" ] || [ -e "$dir/npm" ] || [ -e "$dir/npx" ]; then
        shadow="$work/path/$(printf '%s' "$dir" | tr / _)"
        mkdir -p "$shadow"
        for entry in "$dir"/*; do
            case "${entry##*/}" in
                node | nodejs | npm | npx | corepack) ;;
                *) ln -s "$entry" "$shadow/" ;;
            esac
        done
        dir=$shadow
    fi
    no_node_path="${no_node_path:+$no_node_path:}$dir"
done

# -- a fresh venv, Node off PATH ----------------------------------------------------------------
"$PYTHON" -m venv "$work/venv"
cd "$work" # not the checkout: nothing may be imported from the source tree
run() {
    env -u PYTHONPATH -u VIRTUAL_ENV PATH="$work/venv/bin:$no_node_path" \
        JUPYTER_CONFIG_DIR="$work/jupyter-config" JUPYTER_DATA_DIR="$work/jupyter-data" \
        LITELLM_LOCAL_MODEL_COST_MAP=True "$@"
}
if run bash -c 'command -v node || command -v npm'; then
    fail "node is still on PATH"
fi
say "installing the wheel with the [lab] extra into a fresh venv (no Node on PATH)"
run pip install -qq "${wheel}[lab]"
run jupyter lab --version >/dev/null || fail "the [lab] extra did not bring JupyterLab"

location=$(run python -c 'import jupyter_sleeptime, os; print(os.path.dirname(jupyter_sleeptime.__file__))')
case "$location" in
    "$work/venv/"*) ;;
    *) fail "jupyter_sleeptime imported from $location, not from the fresh venv" ;;
esac

plain() { sed 's/\x1b\[[0-9;]*m//g'; } # no colours
servers=$(run jupyter server extension list 2>&1 | plain)
echo "$servers" | sed 's/^/    /'
echo "$servers" | grep -Eq '^[[:space:]]*jupyter_sleeptime[[:space:]]+enabled' ||
    fail "jupyter server extension list: jupyter_sleeptime is not enabled"
echo "$servers" | grep -Eq '^[[:space:]]*jupyter_sleeptime[[:space:]].*[[:space:]]OK[[:space:]]*$' ||
    fail "jupyter server extension list: jupyter_sleeptime is not OK"

labs=$(run jupyter labextension list 2>&1 | plain)
echo "$labs" | sed 's/^/    /'
echo "$labs" | grep -Eq '^[[:space:]]*jupyter-sleeptime[[:space:]]+v[^[:space:]]+[[:space:]]+enabled[[:space:]]+OK' ||
    fail "jupyter labextension list: jupyter-sleeptime is not enabled and OK"

run jupyter sleeptime --help >/dev/null || fail "jupyter sleeptime --help"
say "OK: server extension and lab extension enabled and OK from the wheel, without Node"

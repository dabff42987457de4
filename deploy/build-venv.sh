#!/bin/sh
# Build the runtime virtual environment of one service from the workspace:
#
#     sh deploy/build-venv.sh SERVICE VENV [WHEELS]
#
# 1. the service's locked third-party dependencies (uv.lock, without the dev group) are
#    synced into VENV;
# 2. the wheels of the service and of each workspace library it depends on are built
#    from the workspace (into WHEELS, default VENV.wheels) and installed into VENV
#    without dependencies, so nothing outside uv.lock enters the environment.
#
# The images' build stage runs it (deploy/<service>/Dockerfile); tests/deploy runs it
# too and starts the service from the result. Run it from the repository root.
set -eu

if [ "$#" -lt 2 ] || [ "$#" -gt 3 ]; then
    echo "usage: build-venv.sh SERVICE VENV [WHEELS]" >&2
    exit 2
fi
service=$1
venv=$2
wheels=${3:-$venv.wheels}

# The workspace members SERVICE needs, as uv.lock resolves them ("-e ./libs/spaps-ops").
members=$(uv export --frozen --no-dev --package "$service" --no-hashes \
    --format requirements.txt | sed -n 's|^-e \./||p')
if ! printf '%s\n' "$members" | grep -qx "services/$service"; then
    echo "error: $service is not a service of this workspace" >&2
    exit 1
fi

UV_PROJECT_ENVIRONMENT=$venv uv sync --frozen --no-dev --package "$service" \
    --no-install-workspace --python "${PYTHON:-python3}" --quiet

rm -rf "$wheels"
mkdir -p "$wheels"
for member in $members; do
    uv build --wheel --quiet --out-dir "$wheels" "$member"
done
uv pip install --quiet --python "$venv/bin/python" --no-deps "$wheels"/*.whl

#!/usr/bin/env bash
# Deploy a stage to LocalStack: the deploy code of the embedded local cloud and
# of AWS (infra/deploy.py), aimed at LocalStack by its endpoint alone.
#
#   localstack/deploy.sh --population-registry-url URL --bank-url URL [--seconds-per-day 60]
#
# The URLs are the partners as the Lambda containers reach them, e.g.
# http://host.docker.internal:8081 for a service on the host. Any option of
# `python -m infra.deploy_cli --help` may be given. Writes build/<stage>.env.
set -euo pipefail

cd "$(dirname "$0")/.."

export AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-http://localhost:4566}"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-ap-southeast-3}"
# LocalStack accepts any credentials; these keep a real profile out of it.
export AWS_ACCESS_KEY_ID="${LOCALSTACK_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${LOCALSTACK_SECRET_ACCESS_KEY:-test}"
unset AWS_PROFILE AWS_SESSION_TOKEN

PYTHON="${PYTHON:-.venv/bin/python}"

for _ in $(seq 1 60); do
  if curl -fsS "$AWS_ENDPOINT_URL/_localstack/health" >/dev/null 2>&1; then
    break
  fi
  sleep 1
done
curl -fsS "$AWS_ENDPOINT_URL/_localstack/health" >/dev/null || {
  echo "LocalStack does not answer at $AWS_ENDPOINT_URL; start it with:" >&2
  echo "  docker compose -f localstack/docker-compose.yml up -d" >&2
  exit 1
}

exec "$PYTHON" -m infra.deploy_cli --stage "${STAGE:-local}" "$@"

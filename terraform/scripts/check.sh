#!/usr/bin/env bash
# What CI runs on terraform/: formatting (works offline) and `terraform validate` of each
# environment, which needs the providers. Where `terraform init` cannot download them (these
# machines reach no provider registry), validation is SKIPPED and says so; formatting never is.
set -euo pipefail
cd "$(dirname "$0")/.."

# A CLI configuration file named by the environment but absent makes terraform warn on every
# command; without it terraform uses its defaults, which is what is wanted here.
if [ -n "${TF_CLI_CONFIG_FILE:-}" ] && [ ! -f "$TF_CLI_CONFIG_FILE" ]; then
  unset TF_CLI_CONFIG_FILE
fi

if ! command -v terraform >/dev/null 2>&1; then
  echo "terraform: FAILED: the terraform CLI is not installed (https://developer.hashicorp.com/terraform/install)" >&2
  exit 1
fi

echo "terraform fmt -check -recursive"
terraform fmt -check -recursive -diff .

for env in envs/*/; do
  env="${env%/}"
  # A private data directory: nothing of a previous init (or an operator's state) is reused.
  data_dir="$(mktemp -d)"
  if TF_DATA_DIR="$data_dir" terraform -chdir="$env" init -backend=false -input=false -no-color >"$data_dir/init.log" 2>&1; then
    echo "terraform validate $env"
    TF_DATA_DIR="$data_dir" terraform -chdir="$env" validate -no-color
  elif grep -qE "Failed to query available provider packages|Failed to install provider|could not connect to registry" "$data_dir/init.log"; then
    echo "terraform validate $env: SKIPPED: the providers cannot be downloaded on this machine ($(grep -m1 -oE 'could not connect to [^:]+|Failed to [a-z ]+' "$data_dir/init.log"))"
  else
    # Anything else (a module that does not load, a bad block) is the configuration's fault.
    echo "terraform init $env: FAILED" >&2
    cat "$data_dir/init.log" >&2
    rm -rf "$data_dir"
    exit 1
  fi
  rm -rf "$data_dir"
done

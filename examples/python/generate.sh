#!/usr/bin/env bash
# Generates the Python client from lindung's protos with the standard gRPC Python tools (grpcio-tools).
set -euo pipefail
cd "$(dirname "$0")"
proto=../../proto
rm -rf gen && mkdir -p gen
python -m grpc_tools.protoc -I "$proto" --python_out=gen --grpc_python_out=gen \
    "$proto"/lindung/v1/*.proto "$proto"/google/rpc/status.proto

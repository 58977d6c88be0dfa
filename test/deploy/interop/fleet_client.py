"""A fleet node written from proto/sepal/fleet/v1/fleet.proto alone (interoperability check).

Usage: fleet_client.py STUBS_DIR HOST:PORT CA_PEM CERT_PEM KEY_PEM

Generates nothing itself: STUBS_DIR holds the output of
  python3 -m grpc_tools.protoc -I proto --python_out=STUBS_DIR --grpc_python_out=STUBS_DIR \
    sepal/fleet/v1/fleet.proto
Registers over mutual TLS, long-polls until it receives a task, and prints one JSON line.
"""
import json
import sys

import grpc

stubs, target, ca, cert, key = sys.argv[1:6]
sys.path.insert(0, stubs)
from sepal.fleet.v1 import fleet_pb2, fleet_pb2_grpc  # noqa: E402


def read(path):
    with open(path, "rb") as f:
        return f.read()


credentials = grpc.ssl_channel_credentials(read(ca), read(key), read(cert))
with grpc.secure_channel(target, credentials) as channel:
    fleet = fleet_pb2_grpc.FleetServiceStub(channel)
    registration = fleet.Register(fleet_pb2.RegisterRequest())
    task = None
    for _ in range(20):
        pulled = fleet.PullTask(
            fleet_pb2.PullTaskRequest(session_id=registration.session_id),
            timeout=registration.poll_timeout_ms / 1000 + 30,
        )
        if pulled.HasField("task"):
            task = pulled.task
            break
    kind = task.WhichOneof("kind") if task is not None else None
    tensors = []
    if kind == "fit":
        tensors = [
            {"name": t.name, "shape": list(t.shape), "bytes": len(t.values)}
            for t in task.fit.parameters.tensors
        ]
    print(
        json.dumps(
            {
                "node": registration.node_name,
                "run": registration.run_id,
                "kind": kind,
                "round": task.round if task is not None else None,
                "tensors": tensors,
            }
        )
    )

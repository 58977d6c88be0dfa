/**
 * A node's connection to the server: gRPC over its own HTTP/2 connection (Connect-ES), with a
 * TLS client certificate when the deployment uses TLS. Each transport holds one connection and
 * reconnects by itself after the server restarts.
 */
import type { Transport } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';

export interface NodeTls {
  /** PEM: the CA that signed the server's certificate. */
  readonly ca: string;
  /** PEM: this node's certificate, whose key is its identity, and that key. */
  readonly cert: string;
  readonly key: string;
}

export function fleetTransport(url: string, maxMessageBytes: number, tls?: NodeTls): Transport {
  return createGrpcTransport({
    baseUrl: url,
    readMaxBytes: maxMessageBytes,
    writeMaxBytes: maxMessageBytes,
    // Dense floats and masked words do not compress (the server accepts none either).
    acceptCompression: [],
    // No HTTP/2 PINGs (connect-node's default): a node whose event loop is busy training or
    // masking for longer than the ping timeout would drop a healthy connection, and in
    // connect-node 2.1 a ping timing out on an idle connection is an unhandled 'error' event
    // that ends the process. A dead connection under a long poll surfaces as the call's
    // deadline instead (node.ts).
    ...(tls === undefined ? {} : { nodeOptions: { ca: tls.ca, cert: tls.cert, key: tls.key } }),
  });
}

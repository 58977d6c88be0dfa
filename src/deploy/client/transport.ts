/**
 * A node's connection to the server: gRPC over its own HTTP/2 connection (Connect-ES), with a
 * TLS client certificate when the deployment uses TLS. Each transport holds one connection and
 * reconnects by itself after the server restarts.
 */
import type { Transport } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import type { TLSSocket } from 'node:tls';

export interface NodeTls {
  /** PEM: the CA that signed the server's certificate. */
  readonly ca: string;
  /** PEM: this node's certificate, whose key is its identity, and that key. */
  readonly cert: string;
  readonly key: string;
}

/**
 * Attested TLS (deploy/attested.ts): opens the TLS connection to the server itself and destroys
 * it when the server's evidence or identity fails, before HTTP/2 sends anything.
 */
export interface AttestedNodeTls {
  connect(host: string, port: number): TLSSocket;
}

export function fleetTransport(
  url: string,
  maxMessageBytes: number,
  tls?: NodeTls | AttestedNodeTls,
): Transport {
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
    ...(tls === undefined
      ? {}
      : 'connect' in tls
        ? { nodeOptions: { createConnection: attestedConnection(url, tls) } }
        : { nodeOptions: { ca: tls.ca, cert: tls.cert, key: tls.key } }),
  });
}

function attestedConnection(url: string, tls: AttestedNodeTls): () => TLSSocket {
  const { hostname, port, protocol } = new URL(url);
  if (protocol !== 'https:')
    throw new Error(`attested TLS needs an https:// server URL, got ${url}`);
  const host = hostname.replace(/^\[(.*)\]$/, '$1');
  return () => tls.connect(host, port === '' ? 443 : Number(port));
}

/**
 * Who is calling. With TLS, a node is the Ed25519 key of its client certificate (the TLS layer
 * has already checked the certificate against the deployment's CA); the allow-list turns the key
 * into the node's name, and a key that is not (or no longer) on it is refused at every request.
 * Without TLS, a node is the name it registers with, which the server takes at its word.
 *
 * Why mutual TLS rather than signed requests: the handshake binds every byte of the connection
 * to the key, with no per-request signature, clock or replay window to get wrong, and any gRPC
 * library can do it (the Python interop test does). A browser cannot present a client
 * certificate programmatically; when browsers join, a signed-request authenticator can
 * implement the same interface.
 */
import { createContextKey, type ContextValues, type HandlerContext } from '@connectrpc/connect';
import type { TLSSocket } from 'node:tls';
import { NodeRefusedError, UnauthenticatedError } from '../errors.js';
import { keyId, NODE_NAME_PATTERN } from '../identity.js';
import type { AllowList } from './allow-list.js';

/** The peer certificate's identity key, or why there is none. */
export type PeerIdentity = { readonly key: string } | { readonly error: Error } | undefined;

/** Context value carrying the caller's PeerIdentity from the connection to the handlers. */
export const peerIdentityKey = createContextKey<PeerIdentity>(undefined, {
  description: 'sepal node identity',
});

export interface NodeAuthenticator {
  /** The registering node's name and key; `claimed` is the name it asked for. */
  register(ctx: HandlerContext, claimed: string): { node: string; key: string | undefined };
  /** The calling node's key (undefined without TLS), after checking it is still allowed. */
  keyOf(ctx: HandlerContext): string | undefined;
}

const identities = new WeakMap<object, PeerIdentity>();
/**
 * An identity decided for a connection by something other than its certificate key (attested
 * TLS, listen.ts). Kept as a property of the TLS socket itself: HTTP/2 hands handlers a proxy of
 * it, through which properties of the socket read through.
 */
const ASSIGNED = Symbol('sepal assigned peer identity');

/** Sets the identity of a TLS connection in place of its certificate key (attested TLS). */
export function assignPeerIdentity(socket: TLSSocket, identity: PeerIdentity): void {
  (socket as TLSSocket & { [ASSIGNED]?: PeerIdentity })[ASSIGNED] = identity;
}

/**
 * The identity key of a TLS connection's client certificate, read once per connection (keyed
 * by the connection's socket, which every HTTP/2 stream on it shares). Plain (non-TLS)
 * connections have none.
 */
export function peerIdentity(socket: TLSSocket | { encrypted?: undefined }): PeerIdentity {
  if (socket.encrypted === undefined) return undefined;
  const assigned = (socket as { [ASSIGNED]?: PeerIdentity })[ASSIGNED];
  if (assigned !== undefined) return assigned;
  const cached = identities.get(socket);
  if (cached !== undefined) return cached;
  let identity: PeerIdentity;
  try {
    const certificate = (socket as TLSSocket).getPeerX509Certificate();
    identity =
      certificate === undefined
        ? { error: new UnauthenticatedError('no client certificate was presented') }
        : { key: keyId(certificate.publicKey) };
  } catch (error) {
    identity = { error: error as Error };
  }
  identities.set(socket, identity);
  return identity;
}

export const contextWithIdentity = (values: ContextValues, identity: PeerIdentity) =>
  values.set(peerIdentityKey, identity);

export function allowListAuthenticator(allowList: AllowList): NodeAuthenticator {
  const identify = (ctx: HandlerContext) => {
    const identity = ctx.values.get(peerIdentityKey);
    if (identity === undefined) throw new UnauthenticatedError('this server requires TLS');
    if ('error' in identity) throw identity.error;
    const node = allowList.nodeOf(identity.key);
    if (node === undefined) {
      throw new NodeRefusedError(`key ${identity.key} is not on the allow-list ${allowList.file}`);
    }
    return { node, key: identity.key };
  };
  return {
    register(ctx, claimed) {
      const { node, key } = identify(ctx);
      if (claimed !== '' && claimed !== node) {
        throw new NodeRefusedError(`key ${key} belongs to node ${node}, not ${claimed}`);
      }
      return { node, key };
    },
    keyOf: (ctx) => identify(ctx).key,
  };
}

/**
 * `inner`, but refusing every call on a connection whose identity is an error first (attested
 * TLS: a peer whose evidence failed is told why at each request, whatever `inner` checks).
 */
export function refusingUnidentified(inner: NodeAuthenticator): NodeAuthenticator {
  const check = (ctx: HandlerContext) => {
    const identity = ctx.values.get(peerIdentityKey);
    if (identity !== undefined && 'error' in identity) throw identity.error;
  };
  return {
    register(ctx, claimed) {
      check(ctx);
      return inner.register(ctx, claimed);
    },
    keyOf(ctx) {
      check(ctx);
      return inner.keyOf(ctx);
    },
  };
}

/** Without TLS: nodes are who they say they are. For trusted networks and tests only. */
export const namedAuthenticator: NodeAuthenticator = {
  register(_ctx, claimed) {
    if (!NODE_NAME_PATTERN.test(claimed)) {
      throw new UnauthenticatedError(`node_name "${claimed}" must match ${NODE_NAME_PATTERN}`);
    }
    return { node: claimed, key: undefined };
  },
  keyOf: () => undefined,
};

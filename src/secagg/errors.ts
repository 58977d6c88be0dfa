/** Typed errors of the secure-aggregation protocol: each names what a user can act on. */
import type { Stage } from './stages.js';

/** A configuration value is invalid; `parameter` names it as the user wrote it. */
export class ParameterError extends Error {
  override name = 'ParameterError';
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(`${parameter}: ${message}`);
  }
}

/**
 * The round cannot produce a result (too few survivors, a secret with too few live share
 * holders, inconsistent shares). The server stops there and reveals nothing more.
 */
export class RoundAbortedError extends Error {
  override name = 'RoundAbortedError';
  constructor(
    readonly stage: Stage,
    readonly reason: string,
  ) {
    super(`secure aggregation aborted at ${stage}: ${reason}`);
  }
}

/** A client's own input cannot be aggregated (wrong length, NaN, infinite values, bad weight). */
export class InputError extends Error {
  override name = 'InputError';
}

/** A received message is malformed or breaks the protocol; `peer` names its sender when known. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
  constructor(
    message: string,
    readonly peer?: number,
  ) {
    super(peer === undefined ? message : `client ${peer}: ${message}`);
  }
}

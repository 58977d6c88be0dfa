/** Typed errors of the federated-learning core: each names what a user can act on. */
import { ParameterError } from '../secagg/errors.js';

/**
 * A strategy, server or checkpoint option is invalid; `parameter` names it as the user wrote it.
 * A ParameterError, like the secure-aggregation options' errors, so one `instanceof` catches both.
 */
export class ConfigError extends ParameterError {
  override name = 'ConfigError';
}

/** Parameters do not have the expected structure; `tensor` names the offending tensor when known. */
export class ParametersError extends Error {
  override name = 'ParametersError';
  constructor(
    readonly tensor: string | undefined,
    message: string,
  ) {
    super(tensor === undefined ? message : `tensor ${tensor}: ${message}`);
  }
}

/** A client did not answer before its deadline. */
export class TimeoutError extends Error {
  override name = 'TimeoutError';
  constructor(
    readonly client: string,
    readonly phase: string,
    readonly timeoutMs: number,
  ) {
    super(`client ${client} did not answer ${phase} within ${timeoutMs} ms`);
  }
}

/** A stored checkpoint cannot be read; `source` names the file or store. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
  constructor(
    readonly source: string,
    message: string,
  ) {
    super(`${source}: ${message}`);
  }
}

/** A client's reply is unusable (e.g. a negative example count, a non-finite loss). */
export class ReplyError extends Error {
  override name = 'ReplyError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

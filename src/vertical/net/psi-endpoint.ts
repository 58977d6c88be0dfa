/**
 * A PSI party as the network sees it: encoded messages in, encoded messages out, every call
 * awaited. This thin adapter is the only place the network code touches PsiParty, so PsiParty may
 * become asynchronous (or change how it computes) without the transport noticing.
 */
import type { RandomSource } from '../../crypto/random.js';
import { decodePsiMessage, encodePsiMessage } from '../psi/codec.js';
import type { PsiGroup } from '../psi/group.js';
import { PsiParty, type PsiResult } from '../psi/party.js';

/** How a party computes PSI: its secrets' source and its group arithmetic (PsiParty's defaults). */
export interface PsiSettings {
  /** The platform CSPRNG unless a replay injects a seeded source. */
  random?: RandomSource;
  /** E.g. `startWorkerGroup()`: off the event loop, on every core. */
  group?: PsiGroup;
}

export class PsiEndpoint {
  private readonly party: PsiParty;
  private started = false;

  constructor(ids: readonly string[], name: string, peer: string, settings: PsiSettings = {}) {
    const { random, group } = settings;
    this.party = new PsiParty(ids, {
      party: name,
      peer,
      ...(random && { random }),
      ...(group && { group }),
    });
  }

  /** This party's blinded set, the first time only; afterwards nothing. */
  async start(): Promise<Uint8Array[]> {
    if (this.started) return [];
    this.started = true;
    return [encodePsiMessage(await this.party.start())];
  }

  /** The replies to one encoded message from the peer; a PeerError leaves the party unchanged. */
  async receive(bytes: Uint8Array): Promise<Uint8Array[]> {
    const message = decodePsiMessage(bytes, this.party.party, this.party.peer);
    const replies = await this.party.receive(message);
    return replies.map(encodePsiMessage);
  }

  /** The intersection, once the protocol is complete. */
  async result(): Promise<PsiResult | undefined> {
    return await this.party.result;
  }
}

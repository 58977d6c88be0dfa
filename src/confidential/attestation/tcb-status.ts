// TCB statuses as Intel's PCS reports them, and the ISVSVN-indexed level lists shared by
// QE Identity and TDX module identities.
import type { JsonObject } from './json-fields.js';

export const TCB_STATUSES = [
  'UpToDate',
  'SWHardeningNeeded',
  'ConfigurationNeeded',
  'ConfigurationAndSWHardeningNeeded',
  'OutOfDate',
  'OutOfDateConfigurationNeeded',
  'Revoked',
] as const;

export type TcbStatus = (typeof TCB_STATUSES)[number];

/** One level of an ISVSVN-indexed identity: a component at isvSvn or above has this status. */
export interface IsvSvnLevel {
  readonly isvSvn: number;
  readonly tcbDate: string;
  readonly status: TcbStatus;
  readonly advisoryIds: readonly string[];
}

export function readStatus(level: JsonObject): TcbStatus {
  return level.oneOf('tcbStatus', TCB_STATUSES);
}

export function readAdvisoryIds(level: JsonObject): string[] {
  return level.has('advisoryIDs') ? level.strings('advisoryIDs') : [];
}

export function readIsvSvnLevels(owner: JsonObject): IsvSvnLevel[] {
  return owner.objects('tcbLevels').map((level) => ({
    isvSvn: level.object('tcb').integer('isvsvn', 0xffff),
    tcbDate: level.string('tcbDate'),
    status: readStatus(level),
    advisoryIds: readAdvisoryIds(level),
  }));
}

/** The first level (levels are listed newest first) whose isvSvn the component meets. */
export function matchIsvSvn(
  levels: readonly IsvSvnLevel[],
  isvSvn: number,
): IsvSvnLevel | undefined {
  return levels.find((level) => isvSvn >= level.isvSvn);
}

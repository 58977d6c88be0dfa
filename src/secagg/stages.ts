/** The five stages of a round, in order (the names of the Flower SecAgg paper). */
export const STAGES = ['setup', 'ask-keys', 'share-keys', 'ask-vectors', 'unmask'] as const;
export type Stage = (typeof STAGES)[number];

export function isStage(value: string): value is Stage {
  return (STAGES as readonly string[]).includes(value);
}

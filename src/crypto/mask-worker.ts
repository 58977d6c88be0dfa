/**
 * A mask thread (see mask-threads.ts): applies the streams of each job it is sent to its window of
 * the shared vector and zeroes its copy of the keys.
 */
import { serveSync } from '../runtime/sync-worker.js';
import { applyMaskRange, type Mask, type MaskSign } from './mask.js';
import type { MaskJob } from './mask-threads.js';

serveSync(() => ({ shared, firstWord, words, keys, signs }: MaskJob) => {
  const masks: Mask[] = Array.from(signs, (sign, i) => ({
    key: keys.subarray(32 * i, 32 * i + 32),
    sign: sign as MaskSign,
  }));
  try {
    applyMaskRange(new Uint32Array(shared, 4 * firstWord, words), masks, firstWord);
  } finally {
    keys.fill(0);
  }
  return { answer: null };
});

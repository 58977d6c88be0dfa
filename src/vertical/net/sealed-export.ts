/**
 * A party's half of the split model, written only through a sealed mount
 * (confidential/sealed): each model becomes `<name>/model.json` and `<name>/weights.bin` in the
 * TensorFlow.js layers format, encrypted and authenticated under the party's own mount key. No
 * plaintext byte of a model touches the disk. After `sepal unseal` the two files load with
 * tf.loadLayersModel; `readSealedModel` does it without leaving the mount.
 *
 * `model.json` records who exported what (userDefinedMetadata.sepal): the party, the steps its
 * state includes, and whether training completed. After a failed run the export is the party's
 * last good state, and the two parties' step counts say whether their halves match.
 */
import type { SealedMount } from '../../confidential/sealed/index.js';
import { tf } from '../split/tf.js';

export interface ExportMetadata {
  party: string;
  /** Training steps the exported state includes. */
  steps: number;
  /** False when the run failed and this is the last good state. */
  complete: boolean;
}

const MODEL_FILE = 'model.json';
const WEIGHTS_FILE = 'weights.bin';

/** Seals each of `models` under its name; returns the paths written inside the mount. */
export async function exportSealed(
  mount: SealedMount,
  models: Readonly<Record<string, tf.LayersModel>>,
  metadata: ExportMetadata,
): Promise<string[]> {
  const written: string[] = [];
  for (const [name, model] of Object.entries(models)) {
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData));
        const json: tf.io.ModelJSON = {
          modelTopology: artifacts.modelTopology as object,
          format: 'layers-model',
          generatedBy: artifacts.generatedBy as string,
          convertedBy: null,
          weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
          userDefinedMetadata: { sepal: { ...metadata } },
        };
        await mount.writeFile(
          `${name}/${MODEL_FILE}`,
          new TextEncoder().encode(JSON.stringify(json)),
        );
        await mount.writeFile(`${name}/${WEIGHTS_FILE}`, weights);
        written.push(`${name}/${MODEL_FILE}`, `${name}/${WEIGHTS_FILE}`);
        return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
      }),
    );
  }
  return written;
}

/** Opens `<name>` from the mount (every chunk authenticated first) as a model and its metadata. */
export async function readSealedModel(
  mount: SealedMount,
  name: string,
): Promise<{ model: tf.LayersModel; metadata: ExportMetadata }> {
  const json = JSON.parse(
    new TextDecoder().decode(await mount.readFile(`${name}/${MODEL_FILE}`)),
  ) as tf.io.ModelJSON;
  const weights = await mount.readFile(`${name}/${WEIGHTS_FILE}`);
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
    }),
  );
  const metadata = (json.userDefinedMetadata as { sepal: ExportMetadata }).sepal;
  return { model, metadata };
}

export { type Attester, REPORT_DATA_BYTES } from './attester.js';
export { GramineAttester, GRAMINE_ATTESTATION_DIR, NotInEnclaveError } from './gramine.js';
export { SoftwareAttester } from './software.js';
export { TdxAttester, TsmUnavailableError, TSM_REPORT_DIR, type TsmFileSystem } from './tdx.js';

// ES module entry: the same objects as `require('fleetpath')`.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const fleetpath = require('./index.js');

export default fleetpath;
export const {
  Version, VersionRange, UpgradeGraph, RouteTable, Fleet, Calendar, Rollout, HealthPolicy, HealthState,
  Decider, RetryPolicy, planRollout, planPrefetch, checkReport, healthEvent, healthReportText,
  keyFromSeed, publicKey, trustedKeys, sign, verify, verifySignatures, sealRetry, openRetry,
  headFields, observeHead, missing, restoreRequest, errorCodes, decisionReasons, ERROR_CODES, DECISION_REASONS,
  version,
} = fleetpath;
export * from './errors.mjs';

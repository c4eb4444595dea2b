export { Secret } from "./secret.js";
export { redact } from "./redact.js";
export { SecretReason } from "./reasons.js";
export {
  describeSecretSource,
  resolveSecret,
  secretResolver,
  type KubeSecretReader,
  type SecretContext,
  type SecretResolver,
} from "./resolve.js";

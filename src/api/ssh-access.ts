import { z } from "zod";
import { duration, secretSource } from "./primitives.js";

/** How Refit reaches hosts over SSH. Host keys are always verified against `knownHosts`. */
export const sshAccessSpec = z.strictObject({
  user: z.string().min(1).default("root").describe("SSH user on every node"),
  port: z.number().int().min(1).max(65535).default(22).describe("SSH port, unless an endpoint sets its own"),
  privateKey: secretSource.describe("Private key (ed25519, RSA or ECDSA, OpenSSH format)"),
  passphrase: secretSource.optional().describe("Passphrase of an encrypted private key"),
  knownHosts: secretSource.describe("OpenSSH known_hosts content; unknown or changed host keys are refused"),
  connectTimeout: duration.default("10s"),
  commandTimeout: duration.default("2m").describe("Default timeout of a short remote command"),
  keepaliveInterval: duration.default("15s"),
  maxChannels: z
    .number()
    .int()
    .min(1)
    .max(9)
    .default(8)
    .describe("Concurrent channels per connection; OpenSSH allows 10 sessions by default"),
});
export type SshAccessSpec = z.infer<typeof sshAccessSpec>;

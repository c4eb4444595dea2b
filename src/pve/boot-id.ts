import { unparseable, type ParseContext } from "./errors.js";

/** The kernel's random boot id: changes on every boot, which is how a reboot is proven. */
export const BOOT_ID_ARGV = ["cat", "/proc/sys/kernel/random/boot_id"] as const;
const CMD = BOOT_ID_ARGV.join(" ");

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function parseBootId(text: string, ctx?: ParseContext): string {
  const id = text.trim().toLowerCase();
  if (!UUID.test(id)) unparseable(ctx, CMD, text, "expected one UUID");
  return id;
}

import { InvalidArgumentError } from "./errors.js";

/**
 * Validation of values that go into argv. Quoting already stops shell injection; these checks stop
 * option injection (a "node name" of `--force`) and catch garbage early with a clear message.
 */

export type GuestKind = "qemu" | "lxc";

const NODE_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
// pve-storage-id in PVE::JSONSchema.
const STORAGE_ID = /^[A-Za-z][A-Za-z0-9._-]*[A-Za-z0-9]$/;
// pve-configid (snapshot names), at most 40 characters.
const SNAPSHOT_NAME = /^[A-Za-z][A-Za-z0-9_-]+$/;
const UNIT_NAME = /^[A-Za-z0-9_@:.\\-]+$/;

export function nodeName(name: string): string {
  if (!NODE_NAME.test(name)) {
    throw new InvalidArgumentError(
      `"${name}" is not a valid Proxmox node name; use the host name the cluster knows.`,
      { node: name },
    );
  }
  return name;
}

export function vmid(id: number | string): string {
  const text = typeof id === "number" ? String(id) : id;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 100 || n > 999_999_999) {
    throw new InvalidArgumentError(`"${text}" is not a valid guest id (an integer from 100 to 999999999).`, {
      vmid: text,
    });
  }
  return String(n);
}

export function storageId(id: string): string {
  if (!STORAGE_ID.test(id)) {
    throw new InvalidArgumentError(`"${id}" is not a valid Proxmox storage id.`, { storage: id });
  }
  return id;
}

export function snapshotName(name: string): string {
  if (name.length > 40 || !SNAPSHOT_NAME.test(name)) {
    throw new InvalidArgumentError(
      `"${name}" is not a valid snapshot name (a letter, then letters, digits, "-" or "_", at most 40 characters).`,
      { snapshot: name },
    );
  }
  return name;
}

export function unitName(name: string): string {
  if (name.startsWith("-") || !UNIT_NAME.test(name)) {
    throw new InvalidArgumentError(`"${name}" is not a valid systemd unit name.`, { unit: name });
  }
  return name;
}

/** An archive is a volume id (`storage:backup/...`) or an absolute path; never something option-like. */
export function archiveRef(ref: string): string {
  if (!(/^[A-Za-z][A-Za-z0-9._-]*:\S+$/.test(ref) || /^\/\S+$/.test(ref))) {
    throw new InvalidArgumentError(
      `"${ref}" is not a backup archive (expected "<storage>:backup/<file>" or an absolute path).`,
      {
        archive: ref,
      },
    );
  }
  return ref;
}

export function positiveInt(value: number, what: string): string {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(`${what} must be a non-negative integer, got ${value}.`);
  }
  return String(value);
}

/** `qm` for VMs, `pct` for containers. */
export function guestCli(kind: GuestKind): "qm" | "pct" {
  return kind === "qemu" ? "qm" : "pct";
}

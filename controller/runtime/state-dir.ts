/**
 * The state directory: where the file store keeps what is not in the desired-state files. This is
 * the one place that knows the layout and the record format; the file store writes through it and
 * `readState` (state-reader.ts) reads through it.
 *
 *   refit.lock                               who holds this directory (state-lock.ts)
 *   desired/<Kind>/<namespace|_>/<name>.json  a desired object's last valid version with its uid,
 *                                            generation and status, and its spec hash, source file
 *                                            and issues (a DesiredRecord)
 *   objects/<Kind>/<namespace|_>/<name>.json  a child object, whole
 *
 * Records are replaced atomically (atomic-file.ts), so a reader sees the old file or the new one,
 * never a torn one; temporary files are dot-files that listing skips.
 */
import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { isKindName, KINDS, type KindName } from "../../src/api/kinds.js";
import { errorMessage } from "../../src/errors.js";
import { isTempFile, removeFileDurable, SerialWriter, writeFileAtomic } from "./atomic-file.js";
import { contentHash } from "./canonical.js";
import { describeKey, keyString, type ObjectKey } from "./store.js";
import {
  storedKey,
  stripUndefined,
  validateObject,
  type DesiredInfo,
  type Entry,
  type StoredObject,
} from "./stored-object.js";

export const DEFAULT_STATE_DIR = "/var/lib/refit";

type Section = "desired" | "objects";
const SECTIONS: readonly Section[] = ["desired", "objects"];
const NO_NAMESPACE_DIR = "_";
const RECORD_SUFFIX = ".json";

/** How a desired object is stored: the object beside what the store knows about it. */
interface DesiredRecord extends DesiredInfo {
  object: StoredObject;
}

/** A record file found in the state directory, and the object its path names. */
export interface StateFile {
  path: string;
  section: Section;
  key: ObjectKey;
}

export interface UnreadableFile {
  path: string;
  error: string;
}

/** Desired kinds are recorded under `desired/`, children (made by the controller) under `objects/`. */
function sectionOf(kind: KindName): Section {
  return KINDS[kind].child ? "objects" : "desired";
}

export function statePath(stateDir: string, key: ObjectKey): string {
  const ns = key.namespace || NO_NAMESPACE_DIR;
  return join(stateDir, sectionOf(key.kind), key.kind, ns, `${key.name}${RECORD_SUFFIX}`);
}

export function encodeEntry(key: ObjectKey, entry: Entry): string {
  const value: StoredObject | Partial<DesiredRecord> =
    sectionOf(key.kind) === "desired" ? { ...entry.desired, object: entry.obj } : entry.obj;
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Entries of a directory; none when it does not exist (or vanished while being walked). */
async function readDirOrNone(dir: string) {
  try {
    return (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    throw err;
  }
}

async function sectionFiles(stateDir: string, section: Section): Promise<StateFile[]> {
  const out: StateFile[] = [];
  for (const k of await readDirOrNone(join(stateDir, section))) {
    if (!k.isDirectory() || !isKindName(k.name)) continue;
    const kindDir = join(stateDir, section, k.name);
    for (const ns of await readDirOrNone(kindDir)) {
      if (!ns.isDirectory()) continue;
      const namespace = ns.name === NO_NAMESPACE_DIR ? "" : ns.name;
      for (const f of await readDirOrNone(join(kindDir, ns.name))) {
        if (!f.isFile() || !f.name.endsWith(RECORD_SUFFIX) || isTempFile(f.name)) continue;
        const name = f.name.slice(0, -RECORD_SUFFIX.length);
        out.push({ path: join(kindDir, ns.name, f.name), section, key: { kind: k.name, namespace, name } });
      }
    }
  }
  return out;
}

/** Every record file, desired objects first, each section in name order. */
export async function listStateFiles(stateDir: string): Promise<StateFile[]> {
  const out: StateFile[] = [];
  for (const section of SECTIONS) out.push(...(await sectionFiles(stateDir, section)));
  return out;
}

function decodeEntry(file: StateFile, raw: unknown): Entry {
  const { key, section } = file;
  if (sectionOf(key.kind) !== section)
    throw new Error(`${key.kind} is ${section === "desired" ? "not " : ""}a desired kind`);
  const record = (section === "desired" ? raw : { object: raw }) as Partial<DesiredRecord>;
  const obj = validateObject(key, record.object);
  if (keyString(storedKey(obj)) !== keyString(key))
    throw new Error(`it holds ${describeKey(storedKey(obj))}, not ${describeKey(key)}`);
  if (section === "objects") return { obj };
  const desired = stripUndefined({
    specHash: typeof record.specHash === "string" ? record.specHash : contentHash(obj.spec),
    source: record.source,
    issues: record.issues,
    readyBeforeInvalid: record.readyBeforeInvalid,
  });
  return { obj, desired };
}

/**
 * Reads and checks one record. Undefined when the file is gone since it was listed (the object was
 * deleted meanwhile); throws when its content is not a valid record for the path.
 */
export async function readEntry(file: StateFile): Promise<Entry | undefined> {
  let text: string;
  try {
    text = await readFile(file.path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  return decodeEntry(file, JSON.parse(text));
}

export interface StateEntries {
  entries: { key: ObjectKey; entry: Entry }[];
  /** Record files that cannot be read or do not hold a valid object for their path. */
  unreadable: UnreadableFile[];
}

/** Every valid record of the state directory. Takes no lock: writers replace files atomically. */
export async function readStateEntries(stateDir: string): Promise<StateEntries> {
  const out: StateEntries = { entries: [], unreadable: [] };
  for (const file of await listStateFiles(stateDir)) {
    try {
      const entry = await readEntry(file);
      if (entry) out.entries.push({ key: file.key, entry });
    } catch (err) {
      out.unreadable.push({ path: file.path, error: errorMessage(err) });
    }
  }
  return out;
}

/** Removes the temporary files a crash left between write and rename; only for the lock's holder. */
export async function sweepTempFiles(stateDir: string): Promise<void> {
  const walk = async (dir: string): Promise<void> => {
    for (const it of await readDirOrNone(dir)) {
      const p = join(dir, it.name);
      if (it.isDirectory()) await walk(p);
      else if (isTempFile(it.name)) await rm(p, { force: true });
    }
  };
  for (const section of SECTIONS) await walk(join(stateDir, section));
}

/** Writes records, each file's writes strictly in the order they were asked for. */
export class StateWriter {
  private readonly serial = new SerialWriter();

  constructor(readonly stateDir: string) {}

  pathOf(key: ObjectKey): string {
    return statePath(this.stateDir, key);
  }

  /** Queues the write of `entry` (undefined: the removal of the key's file) behind earlier writes of it. */
  write(key: ObjectKey, entry: Entry | undefined): Promise<void> {
    const path = this.pathOf(key);
    const text = entry ? encodeEntry(key, entry) : undefined;
    return this.serial.run(path, () =>
      text === undefined ? removeFileDurable(path) : writeFileAtomic(path, text),
    );
  }

  /** Resolves when every write asked for has ended. */
  idle(): Promise<void> {
    return this.serial.idle();
  }
}

import { ParseError } from "../errors.js";
import { isRecord, parseJson, str } from "../json.js";

/**
 * `docker compose images --format json` (compose v2 cmd/compose/images.go): a JSON array of
 * `{ID, ContainerName, Repository, Tag, Size, …}`, one per service container; `ID` is the image id
 * the container runs (`sha256:…` or its short form). Older v2 releases printed `[]`-less objects one
 * per line, read here as well.
 */
export interface ComposeImage {
  container: string;
  image: string;
  id: string;
}

export function parseComposeImages(text: string, command: string): ComposeImage[] {
  const t = text.trim();
  const rows: unknown[] =
    t === ""
      ? []
      : t.startsWith("[")
        ? (parseJson("dockerCompose", command, t) as unknown[])
        : t.split("\n").map((l) => parseJson("dockerCompose", command, l));
  return rows.map((r) => {
    const container = isRecord(r) ? str(r.ContainerName) : undefined;
    const id = isRecord(r) ? str(r.ID) : undefined;
    if (!isRecord(r) || !container || !id)
      throw new ParseError("dockerCompose", command, text, "a row has no ContainerName or ID");
    const repo = str(r.Repository) ?? "";
    const tag = str(r.Tag);
    return { container, image: tag ? `${repo}:${tag}` : repo, id };
  });
}

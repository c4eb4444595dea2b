/**
 * `apt-get --download-only` (`-d`) fills /var/cache/apt/archives and installs nothing; a later
 * dist-upgrade takes the cached archives without fetching them again (src/sim/apt/REFERENCE-download-only.md).
 */
import { afterEach, describe, expect, it } from "vitest";
import { ScaledClock } from "../../src/clock.js";
import { startSimulator, type SimHandle } from "../../src/sim/index.js";
import { SimSsh } from "./ssh-client.js";

const FLEET = new URL("./fleets/three-node.yaml", import.meta.url).pathname;
const UPGRADE = "DEBIAN_FRONTEND=noninteractive apt-get -y dist-upgrade";

let sim: SimHandle | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

describe("apt-get --download-only", () => {
  it("downloads the archives and installs nothing; the next dist-upgrade installs them from the cache", async () => {
    sim = await startSimulator({ fleet: FLEET, clock: new ScaledClock(100) });
    const pve1 = await SimSsh.connect(sim, "pve1");
    try {
      const dl = await pve1.exec("apt-get -y --download-only dist-upgrade");
      expect(dl.code).toBe(0);
      expect(dl.stdout).toContain("2 upgraded, 1 newly installed, 0 to remove and 0 not upgraded.\n");
      expect(dl.stdout).toMatch(/^Get:3 .* pve-manager amd64 8\.4\.2 /m);
      expect(dl.stdout).toContain("Download complete and in download only mode\n");
      expect(dl.stdout).not.toContain("Unpacking");
      expect(dl.stdout).not.toContain("Setting up");
      expect((await pve1.exec("dpkg-query -W pve-manager")).stdout).toBe("pve-manager\t8.4.1\n");
      expect((await pve1.exec("apt-get -s dist-upgrade")).stdout).toContain("2 upgraded, 1 newly installed");

      const up = await pve1.exec(UPGRADE);
      expect(up.code).toBe(0);
      expect(up.stdout).toMatch(/^Need to get 0 B\/[\d.]+ [kM]B of archives\.$/m);
      expect(up.stdout).not.toMatch(/^Get:\d/m);
      expect(up.stdout).toContain("Unpacking pve-manager (8.4.2) over (8.4.1) ...\n");
      expect((await pve1.exec("dpkg-query -W pve-manager")).stdout).toBe("pve-manager\t8.4.2\n");
    } finally {
      pve1.close();
    }
  });

  it("-d is --download-only, and a second download finds everything cached", async () => {
    sim = await startSimulator({ fleet: FLEET, clock: new ScaledClock(100) });
    const pve1 = await SimSsh.connect(sim, "pve1");
    try {
      expect((await pve1.exec("apt-get -y -d dist-upgrade")).code).toBe(0);
      const again = await pve1.exec("apt-get -yd dist-upgrade");
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/^Need to get 0 B\/[\d.]+ [kM]B of archives\.$/m);
      expect(again.stdout).not.toMatch(/^Get:\d/m);
      expect(again.stdout).toContain("Download complete and in download only mode\n");
      expect((await pve1.exec("dpkg-query -W pve-manager")).stdout).toBe("pve-manager\t8.4.1\n");
    } finally {
      pve1.close();
    }
  });
});

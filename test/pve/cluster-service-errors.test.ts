import { describe, expect, it } from "vitest";
import { commandError, isClusterServiceRestarting } from "../../src/pve/errors.js";
import { PMXCFS_DOWN_STDERR } from "../../src/sim/commands/pmxcfs.js";

describe("transient errors of restarting cluster services", () => {
  it.each([
    ["pmxcfs down", PMXCFS_DOWN_STDERR],
    ["a node without quorum", "cluster not ready - no quorum?\n"],
    [
      "the API proxy",
      "proxy handler failed: 595 Errors during connection establishment, proxy handshake: No route to host\n",
    ],
  ])("%s is ClusterNotReady, retryable", (_name, output) => {
    expect(isClusterServiceRestarting(output)).toBe(true);
    const err = commandError(["qm", "migrate", "100", "pve2"], { exitCode: 255, output }, "pve1");
    expect(err).toMatchObject({ reason: "ClusterNotReady", retryable: true });
    expect(err.message).toMatch(
      /`qm migrate 100 pve2` on pve1 failed while a cluster service was restarting/,
    );
  });

  it("a real refusal is not", () => {
    expect(isClusterServiceRestarting("VM 100 is locked (backup)\n")).toBe(false);
    expect(isClusterServiceRestarting("can't migrate local disk 'local:100/vm-100-disk-0.qcow2'\n")).toBe(
      false,
    );
  });
});

import { describe, expect, it } from "vitest";
import { customRefusal } from "../../src/runners/custom/index.js";

const ON = { enabled: true, allowlist: ["/usr/local/bin/app-update", "/usr/bin/systemctl"] };

describe("customRefusal", () => {
  it.each([
    [
      "disabled",
      { enabled: false, allowlist: ["/usr/local/bin/app-update"] },
      { name: "a", apply: ["/usr/local/bin/app-update"] },
      /custom commands are disabled/,
    ],
    [
      "not on the allowlist",
      ON,
      { name: "a", apply: ["/usr/bin/curl", "http://x"] },
      /\/usr\/bin\/curl is not on customCommands\.allowlist/,
    ],
    ["a bare program name", ON, { name: "a", apply: ["app-update"] }, /not an absolute path/],
    [
      "a check not on the allowlist",
      ON,
      { name: "a", checkPending: ["/bin/sh", "-c", "true"], apply: ["/usr/local/bin/app-update"] },
      /\/bin\/sh/,
    ],
    ["a hook not on the allowlist", ON, { name: "warm", argv: ["/usr/bin/curl"] }, /"warm" was refused/],
  ])("refuses a step when %s", (_what, cc, step, message) => {
    expect(customRefusal(step, cc)).toMatch(message);
  });

  it("allows steps and hooks whose every program is on the allowlist", () => {
    expect(
      customRefusal(
        {
          name: "a",
          checkPending: ["/usr/local/bin/app-update", "--check"],
          apply: ["/usr/local/bin/app-update"],
        },
        ON,
      ),
    ).toBeUndefined();
    expect(customRefusal({ name: "h", argv: ["/usr/bin/systemctl", "restart", "app"] }, ON)).toBeUndefined();
  });
});

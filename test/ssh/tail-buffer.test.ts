import { describe, expect, it } from "vitest";
import { TailBuffer } from "../../src/ssh/tail-buffer.js";

describe("TailBuffer", () => {
  it("keeps everything under the limit", () => {
    const b = new TailBuffer(10);
    b.push(Buffer.from("abc"));
    b.push(Buffer.from("defg"));
    expect(b.text()).toBe("abcdefg");
    expect(b.truncated).toBe(false);
  });

  it("keeps exactly the last bytes across chunks when over the limit", () => {
    const b = new TailBuffer(5);
    for (const c of ["abc", "defg", "hi", "", "j"]) b.push(Buffer.from(c));
    expect(b.text()).toBe("fghij");
    expect(b.truncated).toBe(true);
  });

  it("is not truncated at exactly the limit", () => {
    const b = new TailBuffer(4);
    b.push(Buffer.from("ab"));
    b.push(Buffer.from("cd"));
    expect(b.text()).toBe("abcd");
    expect(b.truncated).toBe(false);
  });

  it("drops a character cut in half at the start of the tail", () => {
    const b = new TailBuffer(5);
    b.push(Buffer.from("ééé")); // 6 bytes: the cut falls inside the first é
    expect(b.text()).toBe("éé");
    const emoji = new TailBuffer(6);
    emoji.push(Buffer.from("🎉🎉")); // 8 bytes
    expect(emoji.text()).toBe("🎉");
  });

  it("keeps nothing with a limit of 0 but says output was dropped", () => {
    const b = new TailBuffer(0);
    b.push(Buffer.from("x"));
    expect(b.text()).toBe("");
    expect(b.truncated).toBe(true);
  });
});

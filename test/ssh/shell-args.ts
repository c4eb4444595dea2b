import fc from "fast-check";

/** Characters that mean something to a shell, plus some that only mean something to a terminal or a decoder. */
const NASTY = [
  "'",
  '"',
  " ",
  "$",
  "`",
  "\n",
  "\t",
  "\\",
  "~",
  "*",
  "?",
  "#",
  "-",
  "!",
  "&",
  ";",
  "|",
  "(",
  ")",
  "<",
  ">",
  "{",
  "}",
  "[",
  "]",
  "=",
  "%",
  "^",
  ",",
  ":",
  "@",
  "a",
  "Z",
  "0",
  "é",
  "日本",
  "🎉",
  "\u00a0",
  "\r",
];

/** One argv element: empty, option-like, shell-hostile or arbitrary Unicode (never NUL, which argv cannot carry). */
export function shellArgArbitrary(): fc.Arbitrary<string> {
  return (
    fc
      .oneof(
        fc.string({ unit: fc.constantFrom(...NASTY), maxLength: 12 }),
        fc.string({ unit: "grapheme", maxLength: 12 }),
        fc.string({ unit: "binary", maxLength: 12 }),
        fc.constantFrom(
          "",
          "-n",
          "-e",
          "--",
          "~",
          "~root",
          "*",
          "#x",
          "$HOME",
          "`id`",
          "$(id)",
          "a b",
          "'",
          "x=y",
        ),
      )
      // Lone surrogates cannot be encoded as UTF-8, so no byte string on the wire could carry them.
      .filter((s) => !s.includes("\0") && !/\p{Cs}/u.test(s))
  );
}

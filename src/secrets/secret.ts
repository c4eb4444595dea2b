import { inspect } from "node:util";

const REDACTED = "[redacted]";

/**
 * A secret value that prints as `[redacted]` however it is turned into text (String, template
 * literals, JSON, util.inspect, pino), so logging an object that carries one cannot leak it. Only
 * `reveal()` gives the value, which makes every place that uses it easy to find.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The value itself, for the one call that needs it (a header, a URL, a password). */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

export { REDACTED };

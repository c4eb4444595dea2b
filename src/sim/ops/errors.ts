/** A Proxmox operation failed with the text the real CLI prints (exit 255 unless said otherwise). */
export class OpError extends Error {
  constructor(
    message: string,
    readonly exitCode = 255,
  ) {
    super(message);
    this.name = "OpError";
  }
}

/** A server the local stack started and can stop. Every emulator the project owns returns one. */
export interface RunningEmulator {
  /** `host:port`, the form the `*_EMULATOR_HOST` variables and `.local/stack.json` use. */
  readonly host: string;
  /** `http://host:port`. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

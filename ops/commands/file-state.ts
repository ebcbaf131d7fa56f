import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { ClientState, ClientStateStore } from "../../core/client/client.ts";

/** Client state in a JSON file, replaced atomically so a crash leaves the old or the new state. */
export class FileStateStore implements ClientStateStore {
  constructor(private readonly path: string) {}
  load(): ClientState | null {
    try {
      return JSON.parse(readFileSync(this.path, "utf8")) as ClientState;
    } catch {
      return null;
    }
  }
  save(state: ClientState): void {
    mkdirSync(dirname(this.path), { recursive: true });
    writeFileSync(`${this.path}.tmp`, JSON.stringify(state));
    renameSync(`${this.path}.tmp`, this.path);
  }
}

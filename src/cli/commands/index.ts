/** The command table. Each command file exports one `Command`; register it here with one line. */
import type { Command } from "./command.js";

export const commands: Record<string, Command> = {};

/** Structured logging: an event name and its fields. The runtime decides where lines go. */
export type Log = (event: string, fields: Record<string, unknown>) => void;

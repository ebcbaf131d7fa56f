// One long-lived HTTP/2 session per provider origin (APNs and FCM want connections kept open and
// reused), made again when it closes, errs or is told to go away; each request with its own timeout.
import http2 from "node:http2";

export type Http2Answer = { status: number; headers: Record<string, string>; body: string };

export class Http2Client {
  private sessions = new Map<string, http2.ClientHttp2Session>();

  constructor(private readonly options: { ca?: string; timeoutMs: number }) {}

  private session(origin: string): http2.ClientHttp2Session {
    const known = this.sessions.get(origin);
    if (known && !known.closed && !known.destroyed) return known;
    const session = http2.connect(origin, this.options.ca ? { ca: this.options.ca } : {});
    const forget = () => {
      if (this.sessions.get(origin) === session) this.sessions.delete(origin);
    };
    session.on("error", forget);
    session.on("close", forget);
    session.on("goaway", forget);
    this.sessions.set(origin, session);
    return session;
  }

  request(origin: string, headers: Record<string, string>, body: string): Promise<Http2Answer> {
    return new Promise((resolve, reject) => {
      let req: http2.ClientHttp2Stream;
      try {
        req = this.session(origin).request(headers);
      } catch (error) {
        return reject(error);
      }
      const timer = setTimeout(() => {
        req.close(http2.constants.NGHTTP2_CANCEL);
        reject(new Error(`no answer within ${this.options.timeoutMs} ms`));
      }, this.options.timeoutMs);
      let status = 0;
      let answered: Record<string, string> = {};
      let text = "";
      req.setEncoding("utf8");
      req.on("response", (h) => {
        status = Number(h[":status"]);
        answered = Object.fromEntries(Object.entries(h).map(([k, v]) => [k, String(v)]));
      });
      req.on("data", (chunk: string) => (text += chunk));
      req.on("end", () => {
        clearTimeout(timer);
        resolve({ status, headers: answered, body: text });
      });
      req.on("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      req.end(body);
    });
  }

  async close(): Promise<void> {
    for (const session of this.sessions.values()) session.destroy();
    this.sessions.clear();
  }
}

// `outcaxt bridge`: a node on a serial port (a board over USB, or a virtual node
// on a pseudo-terminal) behind a WebSocket API on 127.0.0.1, with an optional
// MQTT uplink. The parts: link.ts (serial link, reconnects), service.ts (what
// the API does), server.ts (WebSocket, token, Origin), mqtt-uplink.ts.
import { SerialLink, type LinkOptions } from "./link.js";
import { MqttUplink, type MqttUplinkOptions } from "./mqtt-uplink.js";
import { BridgeServer } from "./server.js";
import { NodeService } from "./service.js";
import { loadOrCreateToken, newToken, removeBridgeInfo, writeBridgeInfo } from "./state.js";

export type BridgeOptions = {
  port: string;
  link?: Omit<LinkOptions, "path">;
  /** State directory for the token (bridge.token) and bridge.json; without it the token lives only in memory. */
  stateDir?: string;
  /** A fixed token (otherwise from the state directory, or random). */
  token?: string;
  wsHost?: string;
  wsPort?: number;
  allowedOrigins?: string[];
  /** How long a client without ?token= may take to authenticate (ms). */
  authTimeoutMs?: number;
  mqtt?: Omit<MqttUplinkOptions, "link">;
};

export class Bridge {
  readonly link: SerialLink;
  readonly service: NodeService;
  readonly server: BridgeServer;
  readonly token: string;
  readonly uplink: MqttUplink | null;
  private started = false;
  url = "";

  constructor(readonly opts: BridgeOptions) {
    this.token = opts.token ?? (opts.stateDir ? loadOrCreateToken(opts.stateDir) : newToken());
    this.link = new SerialLink({ path: opts.port, ...opts.link });
    this.service = new NodeService(this.link);
    this.server = new BridgeServer({
      service: this.service, token: this.token, allowedOrigins: opts.allowedOrigins,
      host: opts.wsHost, port: opts.wsPort, authTimeoutMs: opts.authTimeoutMs,
    });
    this.uplink = opts.mqtt ? new MqttUplink({ nodeConfig: () => this.service.config, ...opts.mqtt, link: this.link }) : null;
    if (this.uplink) {
      const uplink = this.uplink;
      this.service.statusExtras.set("mqtt", () => ({ ...uplink.stats, radio: uplink.radio() }));
    }
  }

  /**
   * Listens on the WebSocket port, connects to the broker (when asked) and starts the
   * serial link. Resolves without waiting for the node: the link keeps trying in the
   * background and the API reports its state.
   */
  async start(): Promise<{ url: string; token: string }> {
    if (this.started) throw new Error("the bridge was started already");
    this.started = true;
    this.url = await this.server.listen();
    if (this.uplink) await this.uplink.start();
    this.link.start().catch(() => undefined);
    if (this.opts.stateDir) {
      writeBridgeInfo(this.opts.stateDir, { url: this.url, pid: process.pid, port: this.opts.port, startedAt: new Date().toISOString() });
    }
    return { url: this.url, token: this.token };
  }

  async stop(): Promise<void> {
    if (this.opts.stateDir) removeBridgeInfo(this.opts.stateDir);
    await this.server.close();
    if (this.uplink) await this.uplink.close();
    await this.link.close();
  }
}

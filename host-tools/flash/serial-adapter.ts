// A Web-Serial-shaped port over the `serialport` package, for esptool-js's Transport
// (which wants open({ baudRate }), WHATWG readable/writable streams, setSignals,
// getInfo and close).
import { Readable, Writable } from "node:stream";
import type { ReadableStream, WritableStream } from "node:stream/web";
import { SerialPort } from "serialport";

export interface SerialPortInfo {
  usbVendorId?: number;
  usbProductId?: number;
}

export class NodeSerialAdapter {
  private port: SerialPort | null = null;
  private _readable: ReadableStream<Uint8Array> | null = null;
  private _writable: WritableStream<Uint8Array> | null = null;
  /** Number of setSignals calls the OS refused (pseudo-terminals do not have DTR/RTS). */
  signalErrors = 0;

  constructor(readonly path: string, private readonly info: SerialPortInfo = {}) {}

  get readable(): ReadableStream<Uint8Array> | null { return this._readable; }
  get writable(): WritableStream<Uint8Array> | null { return this._writable; }

  async open(options: { baudRate: number }): Promise<void> {
    if (this.port) await this.close();
    const port = new SerialPort({ path: this.path, baudRate: options.baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    this.port = port;
    this._readable = Readable.toWeb(port) as unknown as ReadableStream<Uint8Array>;
    this._writable = Writable.toWeb(port) as unknown as WritableStream<Uint8Array>;
  }

  async setSignals(signals: { dataTerminalReady?: boolean; requestToSend?: boolean; break?: boolean }): Promise<void> {
    const port = this.port;
    if (!port) throw new Error("setSignals: port is not open");
    const set: { dtr?: boolean; rts?: boolean; brk?: boolean } = {};
    if (signals.dataTerminalReady !== undefined) set.dtr = signals.dataTerminalReady;
    if (signals.requestToSend !== undefined) set.rts = signals.requestToSend;
    if (signals.break !== undefined) set.brk = signals.break;
    await new Promise<void>((resolve, reject) => port.set(set, (err) => {
      if (!err) return resolve();
      // Pseudo-terminals (socat, tests) and some adapters have no modem lines.
      if (/Inappropriate ioctl|ENOTTY|Operation not supported/i.test(err.message)) { this.signalErrors++; return resolve(); }
      reject(err);
    }));
  }

  /** Changes the baud rate in place (esptool-js uses this instead of closing and reopening the port). */
  async setBaudRate(baudRate: number): Promise<void> {
    const port = this.port;
    if (!port) throw new Error("setBaudRate: port is not open");
    await new Promise<void>((resolve, reject) => port.update({ baudRate }, (err) => (err ? reject(err) : resolve())));
  }

  getInfo(): SerialPortInfo { return { ...this.info }; }

  async close(): Promise<void> {
    const port = this.port;
    this.port = null;
    this._readable = null;
    this._writable = null;
    if (port && port.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}

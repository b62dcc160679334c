import type { Duplex } from 'node:stream';
import type { MqttClient } from 'mqtt';

/** MQTT control packet types by their number (the fixed header's high nibble). */
const PACKET_TYPES = ['reserved', 'connect', 'connack', 'publish', 'puback', 'pubrec', 'pubrel', 'pubcomp', 'subscribe', 'suback', 'unsubscribe', 'unsuback', 'pingreq', 'pingresp', 'disconnect', 'auth'] as const;

export interface OversizedPacket {
  type: (typeof PACKET_TYPES)[number];
  /** The whole packet's size as its header gives it: fixed header and remaining length. */
  bytes: number;
}

/**
 * Follows the framing of the bytes a broker sends (each packet's type byte and remaining length)
 * without keeping any packet's body, and says when a header announces a packet over the limit.
 * MQTT.js's parser has no limit of its own: it keeps a packet's bytes until the whole of it has
 * come, so one 260 MB publish costs the daemon a gigabyte before anything can look at it.
 */
export class PacketSizeReader {
  /** Body bytes of the current packet still to pass by. */
  private skip = 0;
  private inLength = false;
  private type = 0;
  private length = 0;
  private lengthBytes = 0;
  private stopped = false;

  constructor(private readonly maxBytes: number) {}

  /** The first packet over the limit whose header is in `chunk`; after it, or after a malformed length, it reads no more. */
  push(chunk: Buffer): OversizedPacket | undefined {
    let i = 0;
    while (i < chunk.length && !this.stopped) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      const byte = chunk[i++]!;
      if (!this.inLength) {
        this.type = byte >> 4;
        this.inLength = true;
        this.length = 0;
        this.lengthBytes = 0;
        continue;
      }
      this.length += (byte & 0x7f) * 128 ** this.lengthBytes;
      this.lengthBytes++;
      if (byte & 0x80) {
        // A fifth length byte is malformed: MQTT.js's parser refuses it and the connection closes.
        if (this.lengthBytes === 4) this.stopped = true;
        continue;
      }
      this.inLength = false;
      const bytes = 1 + this.lengthBytes + this.length;
      if (bytes > this.maxBytes) {
        this.stopped = true;
        return { type: PACKET_TYPES[this.type]!, bytes };
      }
      this.skip = this.length;
    }
    return undefined;
  }
}

/** MQTT 5 DISCONNECT with reason 0x95, Packet too large: what the spec has a client send then. */
const DISCONNECT_TOO_LARGE = Buffer.from([0xe0, 0x01, 0x95]);

type StreamBuilder = (client: MqttClient) => Duplex;

/**
 * Puts a PacketSizeReader on every connection the client makes (its first and each reconnect),
 * ahead of MQTT.js's own reader. On a packet over `maxBytes` MQTT.js is cut off from the stream
 * (it has then taken at most the chunk that held the header), the rest is read and dropped, the
 * broker is told why (DISCONNECT 0x95) and the connection closed; `refused` is told what came.
 * The client must have been made with `manualConnect: true`; `connect()` it after.
 */
export function guardPacketSize(client: MqttClient, maxBytes: number, refused: (p: OversizedPacket) => void): void {
  // MQTT.js builds each connection's stream through this (not in its typings): the one place to
  // see a connection's bytes before its parser does, for plain TCP and TLS alike.
  const holder = client as unknown as { streamBuilder: StreamBuilder };
  const build = holder.streamBuilder;
  holder.streamBuilder = (c) => {
    const stream = build(c);
    const reader = new PacketSizeReader(maxBytes);
    const read = (chunk: Buffer) => {
      const oversized = reader.push(chunk);
      if (!oversized) return;
      stream.off('data', read);
      stream.unpipe();
      stream.resume();
      stream.write(DISCONNECT_TOO_LARGE, () => stream.destroy());
      setTimeout(() => stream.destroy(), 1000).unref();
      refused(oversized);
    };
    // Listening before MQTT.js pipes the stream to its parser: this sees each chunk first.
    stream.on('data', read);
    return stream;
  };
}

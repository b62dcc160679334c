import net from 'node:net';

/**
 * A TCP proxy to an RTSP server on 127.0.0.1:`port` that delays what the server sends by `lagMs`
 * once the client asked it to PLAY, as a camera with a long encoder or network buffer delivers
 * (its RTCP sender reports come as late as its frames), and with `dropReports` leaves out the
 * server's RTCP (interleaved odd channels), as a camera that sends none. The requests and the
 * answers before PLAY go at once: the server starts a session's video at its PLAY, so sessions
 * start as close together as without the proxy, and only the stream is late. Interleaved RTP over
 * TCP only (`transport: tcp`).
 */
export async function lagProxy(port: number, lagMs: number, dropReports = false): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    sockets.add(client).add(upstream);
    let playing = false;
    let pending = Buffer.alloc(0);
    const send = (chunk: Buffer) => (lagMs > 0 ? setTimeout(() => client.writable && client.write(chunk), lagMs) : client.write(chunk));
    client.on('data', (chunk: Buffer) => {
      if (chunk.includes('PLAY ')) playing = true;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!playing) return void client.write(chunk);
      if (!dropReports) return void send(chunk);
      // Interleaved frames: '$', channel, 16-bit length; anything else (an RTSP answer) goes as it is.
      pending = Buffer.concat([pending, chunk]);
      const out: Buffer[] = [];
      while (pending.length > 0) {
        if (pending[0] !== 0x24) {
          const next = pending.indexOf(0x24);
          const end = next < 0 ? pending.length : next;
          out.push(pending.subarray(0, end));
          pending = pending.subarray(end);
          continue;
        }
        if (pending.length < 4) break;
        const size = 4 + pending.readUInt16BE(2);
        if (pending.length < size) break;
        if (pending[1]! % 2 === 0) out.push(pending.subarray(0, size));
        pending = pending.subarray(size);
      }
      if (out.length > 0) send(Buffer.concat(out));
    });
    upstream.on('close', () => setTimeout(() => client.destroy(), lagMs));
    client.on('close', () => upstream.destroy());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    for (const s of [client, upstream]) s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** MQTT's variable byte integer (a packet's remaining length): seven bits a byte, the high bit saying more follow. */
export function mqttVarint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}
